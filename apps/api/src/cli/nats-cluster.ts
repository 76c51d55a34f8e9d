import { resolve } from 'node:path';
import { startNatsCluster } from './nats/nats-cluster';

/**
 * `npm run nats-cluster`: a local three-node JetStream cluster in the foreground until Ctrl-C
 * (nats/nats-cluster.ts; config deploy/nats/cluster-node.conf).
 *
 *   npm run nats-cluster                           # store under .data/nats, ports 4301-4303
 *   npm run nats-cluster -- --dir /tmp/n --port 0  # another folder, free ports
 */
function argValue(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/** CLI: run the cluster in the foreground until Ctrl-C. */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const dir = argValue(args, '--dir') ?? '.data/nats';
  const first = Number(argValue(args, '--port') ?? 4301);
  const ports = first === 0 ? undefined : [first, first + 1, first + 2];
  const cluster = await startNatsCluster({ dir, ports });
  process.stdout.write(
    `JetStream cluster of ${cluster.nodes.length} nats-server processes (store and logs in ${resolve(dir)}):\n` +
      cluster.nodes.map((n) => `  ${n.name}  ${n.url}\n`).join('') +
      `\nUse it with:\n  STRATA_EVENT_LOG=${cluster.connectString} npm start\n\nCtrl-C stops all three.\n`,
  );
  const stop = (): void => {
    void cluster.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
