import { Controller, Get, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import type { FastifyReply } from 'fastify';
import { DataSource } from 'typeorm';
import { ConfigChangeFeed } from '../../database/config-change-feed';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly feed: ConfigChangeFeed,
  ) {}

  /**
   * 200 `{status:"ok",db:"up",config}`, or 503 with `db:"down"` (and `Retry-After`) when PostgreSQL does
   * not answer within 2 s. `config` is the configuration version this process serves, when it applied
   * it and how many seconds ago it last confirmed it is the latest (`behind` while a reload is retried).
   */
  @Get()
  async health(@Res() reply: FastifyReply): Promise<void> {
    const up = await Promise.race([
      this.dataSource.query('SELECT 1').then(
        () => true,
        () => false,
      ),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 2000).unref()),
    ]);
    const config = this.feed.status();
    if (up) await reply.status(200).send({ status: 'ok', db: 'up', config });
    else await reply.status(503).header('retry-after', '1').send({ status: 'error', db: 'down', config });
  }
}
