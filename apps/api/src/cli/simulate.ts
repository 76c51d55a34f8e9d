/**
 * npm run simulate -- --experiment KEY [--units 50000] [--effect 0.05] [--metric METRIC_KEY]
 *                     [--baseline 0.1] [--days 7] [--attributes country=DE,FR] [--sdk-key KEY]
 *                     [--url http://localhost:3000] [--key ADMIN_KEY] [--seed N]
 *
 * Drives realistic traffic through @strata/sdk against a running API: uses --sdk-key or creates an
 * SDK key of its own with the admin key (revoked when the run ends), assigns --units units
 * (arrivals spread over the last --days days, each with one of the --attributes values per
 * attribute, so targeted experiments get traffic), logs their exposures and emits metric events
 * with a true relative lift of --effect in every treatment on --metric (default: the experiment's
 * primary metric; its other metrics get no effect), then prints what it sent and the primary
 * metric's lift and CI from the results endpoint.
 */
import { simulateCli, SimulateUsageError } from './simulator/simulate-cli';

simulateCli(process.argv.slice(2), { out: (line) => process.stdout.write(`${line}\n`), progress: process.stdout.isTTY === true, env: process.env }).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`simulate: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(error instanceof SimulateUsageError ? 2 : 1);
  },
);
