import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import type { EventLogStatsDto } from '@strata/contracts';
import type { FastifyReply } from 'fastify';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import { ConfigChangeFeed } from '../../database/config-change-feed';
import { EventLog } from '../event/log/event-log';
import { EventLogWriter } from '../event/log/event-log-writer';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly feed: ConfigChangeFeed,
    private readonly log: EventLog,
    private readonly logWriter: EventLogWriter,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * 200 `{status:"ok",db:"up",config}`, or 503 with `db:"down"` (and `Retry-After`) when PostgreSQL does
   * not answer within 2 s. `config` is the configuration version this process serves, when it applied
   * it and how many seconds ago it last confirmed it is the latest (`behind` while a reload is retried).
   * With the event log also `eventLog` (backlog, this process's writer) and 503 when what this
   * role needs now is down: an api process collecting into the log needs the log (not the
   * database: it keeps accepting while PostgreSQL is down); a writer needs both.
   */
  @Get()
  async health(@Res() reply: FastifyReply): Promise<void> {
    const [db, log] = await Promise.all([this.databaseUp(), this.log.enabled ? this.log.status() : Promise.resolve(null)]);
    const needsDb = !this.log.enabled || this.config.roles.writer || this.config.roles.jobs;
    const ok = (needsDb ? db : true) && (log === null || log.status === 'up');
    const body: { status: string; db: string; config: ReturnType<ConfigChangeFeed['status']>; role?: string; eventLog?: EventLogStatsDto } =
      {
        status: ok ? 'ok' : 'error',
        db: db ? 'up' : 'down',
        config: this.feed.status(),
      };
    if (this.config.role !== 'all') body.role = this.config.role;
    if (log) body.eventLog = { ...log, writer: this.logWriter.running ? this.logWriter.stats() : null };
    if (ok) await reply.status(200).send(body);
    else await reply.status(503).header('retry-after', '1').send(body);
  }

  private databaseUp(): Promise<boolean> {
    return Promise.race([
      this.dataSource.query('SELECT 1').then(
        () => true,
        () => false,
      ),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 2000).unref()),
    ]);
  }
}
