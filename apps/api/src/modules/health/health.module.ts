import { Module } from '@nestjs/common';
import { EventModule } from '../event/event.module';
import { HealthController } from './health.controller';

@Module({ imports: [EventModule], controllers: [HealthController] })
export class HealthModule {}
