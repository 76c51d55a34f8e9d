import { type DynamicModule, Global, Module, type OnApplicationShutdown, type OnModuleInit, Inject } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { ConfigChangeFeed } from './config-change-feed';
import { ConfigReadYourWrites } from './config-read-your-writes.interceptor';

export const DATABASE_URL = Symbol('DATABASE_URL');

class ChangeFeedLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(@Inject(ConfigChangeFeed) private readonly feed: ConfigChangeFeed) {}
  async onModuleInit(): Promise<void> {
    await this.feed.start();
  }
  async onApplicationShutdown(): Promise<void> {
    await this.feed.stop();
  }
}

/** Hands Nest the already-migrated DataSource and the configuration change feed (read-your-writes for every request). */
@Global()
@Module({})
export class DatabaseModule {
  static forDataSource(dataSource: DataSource, url: string): DynamicModule {
    const feed = new ConfigChangeFeed(dataSource, url);
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          useFactory: () => dataSource.options,
          dataSourceFactory: async () => dataSource,
        }),
      ],
      providers: [{ provide: DATABASE_URL, useValue: url }, { provide: ConfigChangeFeed, useValue: feed }, ChangeFeedLifecycle, { provide: APP_INTERCEPTOR, useClass: ConfigReadYourWrites }],
      exports: [DATABASE_URL, ConfigChangeFeed],
    };
  }
}
