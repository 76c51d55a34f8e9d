import { Global, Module } from '@nestjs/common';
import { ConfigStateService } from './config-state.service';
import { ExperimentCatalog } from './experiment-catalog';

/**
 * The configuration every API process holds in memory (ConfigStateService): the assignment
 * snapshot, the collector's experiment catalog and the API key map, read once per version.
 * Global: assignment, event ingest and authentication all read it.
 */
@Global()
@Module({
  providers: [ConfigStateService, { provide: ExperimentCatalog, useFactory: (state: ConfigStateService) => state.catalog, inject: [ConfigStateService] }],
  exports: [ConfigStateService, ExperimentCatalog],
})
export class ConfigStateModule {}
