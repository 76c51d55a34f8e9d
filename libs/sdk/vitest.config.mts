import { nodeProject } from '../../vitest.shared.mts';

export default nodeProject('sdk', { include: ['src/**/*.spec.ts', 'src/**/*.spec.tsx', 'test/**/*.spec.ts'], testTimeout: 15_000 });
