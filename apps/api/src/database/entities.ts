import { ApiKeyEntity } from '../modules/api-key/api-key.entity';
import { AuditEntryEntity } from '../modules/audit/audit.entity';
import { ExperimentEntity } from '../modules/experiment/experiment.entity';
import { HoldoutEntity } from '../modules/holdout/holdout.entity';
import { BucketAllocationEntity } from '../modules/layer/bucket-allocation.entity';
import { LayerEntity } from '../modules/layer/layer.entity';
import { MetricEntity } from '../modules/metric/metric.entity';
import { UserEntity } from '../modules/user/user.entity';

/** Every TypeORM entity; heavy analytic tables are reached with raw SQL instead. */
export const entities = [ApiKeyEntity, AuditEntryEntity, LayerEntity, BucketAllocationEntity, MetricEntity, ExperimentEntity, UserEntity, HoldoutEntity];
