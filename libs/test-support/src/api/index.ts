// Fixtures around a real API on the test PostgreSQL (vitest workers of projects whose global setup provides `adminDatabaseUrl`).
export { startApiProcess, type ApiProcess } from './api-process';
export type { ApiUnderTest } from './api-under-test';
export { runningExperiment, type FixtureExperiment } from './running-experiment';
export { createTestDatabase } from './test-database';
