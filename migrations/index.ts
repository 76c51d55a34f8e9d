/**
 * Every migration, in order. Append new ones; never edit or reorder a shipped one.
 * File names: <ms-timestamp>-<Verb><Object>.ts.
 */
import { CreateApiKeys1764000000000 } from './1764000000000-CreateApiKeys';
import { CreateAuditLog1764000001000 } from './1764000001000-CreateAuditLog';
import { CreateConfigVersion1764000002000 } from './1764000002000-CreateConfigVersion';
import { CreateLayers1764000003000 } from './1764000003000-CreateLayers';
import { CreateMetrics1764000004000 } from './1764000004000-CreateMetrics';
import { CreateExperiments1764000005000 } from './1764000005000-CreateExperiments';
import { CreateBucketAllocations1764000006000 } from './1764000006000-CreateBucketAllocations';
import { CreateEvents1764001000000 } from './1764001000000-CreateEvents';
import { CreateAnalysisRollups1764002000000 } from './1764002000000-CreateAnalysisRollups';
import { ChangeRollupIndexesForIncrementalAdvance1764003000000 } from './1764003000000-ChangeRollupIndexesForIncrementalAdvance';
import { CreateAnalysisAggregates1764003001000 } from './1764003001000-CreateAnalysisAggregates';
import { ChangeEventReceivedAtIndexesToBrin1764004000000 } from './1764004000000-ChangeEventReceivedAtIndexesToBrin';
import { ChangeEventMetricIndexToUnitId1764005000000 } from './1764005000000-ChangeEventMetricIndexToUnitId';
import { RemoveEventExposureIndex1764005001000 } from './1764005001000-RemoveEventExposureIndex';
import { RemoveFirstExposureTimeIndex1764005002000 } from './1764005002000-RemoveFirstExposureTimeIndex';
import { CreateAnalysisEngine1764100000000 } from './1764100000000-CreateAnalysisEngine';
import { AddConcludedToExperiments1764101000000 } from './1764101000000-AddConcludedToExperiments';
import { CreateUsers1764103000000 } from './1764103000000-CreateUsers';
import { AddActorToAuditLog1764103001000 } from './1764103001000-AddActorToAuditLog';
import { AddValuesToExperiments1764105000000 } from './1764105000000-AddValuesToExperiments';
import { CreateRolloutPlans1764110000000 } from './1764110000000-CreateRolloutPlans';
import { AddCiToApiKeyTypes1764110001000 } from './1764110001000-AddCiToApiKeyTypes';
import { CreateHoldouts1764120000000 } from './1764120000000-CreateHoldouts';
import { CreateAnalysisInteractions1764130000000 } from './1764130000000-CreateAnalysisInteractions';
import { AddMinDurationDaysToExperiments1764140000000 } from './1764140000000-AddMinDurationDaysToExperiments';
import { AddSegmentDimensionsToExperiments1764150000000 } from './1764150000000-AddSegmentDimensionsToExperiments';
import { AddShipBucketsToExperiments1764160000000 } from './1764160000000-AddShipBucketsToExperiments';
import { AddKindToRolloutPlans1764160001000 } from './1764160001000-AddKindToRolloutPlans';
import { AddArchivedAtToMetrics1764180000000 } from './1764180000000-AddArchivedAtToMetrics';

export const migrations = [
  CreateApiKeys1764000000000,
  CreateAuditLog1764000001000,
  CreateConfigVersion1764000002000,
  CreateLayers1764000003000,
  CreateMetrics1764000004000,
  CreateExperiments1764000005000,
  CreateBucketAllocations1764000006000,
  CreateEvents1764001000000,
  CreateAnalysisRollups1764002000000,
  ChangeRollupIndexesForIncrementalAdvance1764003000000,
  CreateAnalysisAggregates1764003001000,
  ChangeEventReceivedAtIndexesToBrin1764004000000,
  ChangeEventMetricIndexToUnitId1764005000000,
  RemoveEventExposureIndex1764005001000,
  RemoveFirstExposureTimeIndex1764005002000,
  CreateAnalysisEngine1764100000000,
  AddConcludedToExperiments1764101000000,
  CreateUsers1764103000000,
  AddActorToAuditLog1764103001000,
  AddValuesToExperiments1764105000000,
  CreateRolloutPlans1764110000000,
  AddCiToApiKeyTypes1764110001000,
  CreateHoldouts1764120000000,
  CreateAnalysisInteractions1764130000000,
  AddMinDurationDaysToExperiments1764140000000,
  AddSegmentDimensionsToExperiments1764150000000,
  AddShipBucketsToExperiments1764160000000,
  AddKindToRolloutPlans1764160001000,
  AddArchivedAtToMetrics1764180000000,
];
