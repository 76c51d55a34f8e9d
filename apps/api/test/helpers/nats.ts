import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findNatsServer, startNatsCluster, type NatsCluster } from '../../src/cli/nats/nats-cluster';

/**
 * nats-server for the event-log tests: a missing binary is said loudly, and fails the run under
 * CI=true (never a silent skip). Returns whether the tests can run.
 */
export function natsServerAvailable(): boolean {
  if (findNatsServer()) return true;
  const message = 'nats-server NOT FOUND: the event-log integration tests cannot run (apt-get install nats-server, or set NATS_SERVER_BIN)';
  process.stderr.write(`\n${'!'.repeat(message.length)}\n${message}\n${'!'.repeat(message.length)}\n\n`);
  if (process.env.CI === 'true') throw new Error(message);
  return false;
}

/** A three-node cluster on free loopback ports with its store in a temp folder; `stop()` kills it and removes the folder. */
export async function startTestNatsCluster(): Promise<NatsCluster & { dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-nats-'));
  try {
    const cluster = await startNatsCluster({ dir });
    return {
      ...cluster,
      dir,
      stop: async () => {
        await cluster.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
