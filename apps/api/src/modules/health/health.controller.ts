import { Controller, Get, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import type { FastifyReply } from 'fastify';
import { DataSource } from 'typeorm';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** 200 `{status:"ok",db:"up"}`, or 503 with `db:"down"` when PostgreSQL does not answer within 2 s. */
  @Get()
  async health(@Res() reply: FastifyReply): Promise<void> {
    const up = await Promise.race([
      this.dataSource.query('SELECT 1').then(
        () => true,
        () => false,
      ),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 2000).unref()),
    ]);
    await reply.status(up ? 200 : 503).send(up ? { status: 'ok', db: 'up' } : { status: 'error', db: 'down' });
  }
}
