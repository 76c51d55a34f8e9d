import { parseArgs } from 'node:util';
import type { RolloutHealth, RolloutPlanDto } from '@strata/contracts';

/**
 * npm run rollout -- status|advance|pause|resume|revert --experiment KEY
 *                    [--reason TEXT] [--to last_safe|zero] [--json] [--url URL] [--key KEY]
 *
 * For deployment pipelines (a `ci` key is enough; docs/rollouts.md). `status` exits with the
 * plan's health so a pipeline step can gate on it:
 *   0 healthy  — completed, or the current step held its minimums with healthy guardrails
 *   3 waiting  — the step still waits (duration, exposed units) or the plan is paused
 *   4 reverted — the engine (harm, SRM) or someone reverted it
 * A command (advance, pause, resume, revert) exits 0 when it was applied, then prints the plan.
 * 1: the request failed (unknown experiment, refused command, bad key, API unreachable);
 * 2: wrong usage. The URL comes from --url or STRATA_URL, the key from --key or STRATA_API_KEY.
 */

export const EXIT = { healthy: 0, failed: 1, usage: 2, waiting: 3, reverted: 4 } as const;
const HEALTH_EXIT: Record<RolloutHealth, number> = { healthy: EXIT.healthy, waiting: EXIT.waiting, reverted: EXIT.reverted };
const COMMANDS = ['status', 'advance', 'pause', 'resume', 'revert'] as const;
type Command = (typeof COMMANDS)[number];

const USAGE = `usage: npm run rollout -- status|advance|pause|resume|revert --experiment KEY [--reason TEXT] [--to last_safe|zero] [--json] [--url URL] [--key KEY]
  (STRATA_URL and STRATA_API_KEY are read when --url / --key are not given)
  status exits 0 healthy, 3 waiting, 4 reverted; 1 on a failed request, 2 on wrong usage`;

class UsageError extends Error {}

export interface CliArgs {
  command: Command;
  experiment: string;
  reason?: string;
  to?: 'last_safe' | 'zero';
  json: boolean;
  url: string;
  key: string;
}

export function parseCli(argv: string[], env: NodeJS.ProcessEnv): CliArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        experiment: { type: 'string' },
        reason: { type: 'string' },
        to: { type: 'string' },
        json: { type: 'boolean', default: false },
        url: { type: 'string' },
        key: { type: 'string' },
      },
    });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const { values, positionals } = parsed;
  const command = positionals[0];
  if (positionals.length !== 1 || !COMMANDS.includes(command as Command))
    throw new UsageError(`give one command of ${COMMANDS.join(', ')}${command ? ` (not "${positionals.join(' ')}")` : ''}`);
  if (!values.experiment) throw new UsageError('--experiment KEY is needed');
  if (values.to !== undefined && values.to !== 'last_safe' && values.to !== 'zero') throw new UsageError('--to must be last_safe or zero');
  if (values.to !== undefined && command !== 'revert') throw new UsageError('--to goes with revert only');
  const url = values.url ?? env.STRATA_URL;
  if (!url) throw new UsageError('the API address is needed: --url or STRATA_URL (e.g. http://localhost:3000)');
  const key = values.key ?? env.STRATA_API_KEY;
  if (!key) throw new UsageError('an API key is needed: --key or STRATA_API_KEY (a ci key is enough)');
  return {
    command: command as Command,
    experiment: values.experiment,
    reason: values.reason,
    to: values.to as CliArgs['to'],
    json: values.json,
    url: url.replace(/\/$/, ''),
    key,
  };
}

/** A few lines a person reads in a pipeline log. */
export function describePlan(p: RolloutPlanDto): string {
  // A ship plan's steps are the share of targeted units given the winner, not the experiment's share of the layer.
  const ship = p.kind === 'ship';
  const of = ship ? '% of targeted units' : '% of the layer';
  const step =
    p.currentStep === null
      ? `at 0 %${ship ? ' of targeted units' : ''} (reverted to zero)`
      : `step ${p.currentStep + 1} of ${p.steps.length} (${p.traffic} ${of}${ship ? ' get the winner' : ''})`;
  const lines = [
    `${p.experiment}: ${p.health.toUpperCase()} — ${ship ? 'staged ship' : 'rollout'} ${p.status}, ${step}, since ${p.stepStartedAt}`,
  ];
  lines.push(`  ${ship ? 'units compared' : 'exposed units'}: ${p.exposedUnits} (${p.exposedUnits - p.unitsAtStepStart} in this step)`);
  for (const m of p.waiting.messages) lines.push(`  waiting for: ${m}`);
  for (const f of p.findings) lines.push(`  finding: ${f.message}`);
  if (p.status === 'reverted' && p.revertReason) lines.push(`  reverted because: ${p.revertReason}`);
  return lines.join('\n');
}

async function call(args: CliArgs, method: 'GET' | 'POST', path: string, body?: unknown): Promise<RolloutPlanDto> {
  let res: Response;
  try {
    res = await fetch(`${args.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${args.key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    throw new Error(
      `cannot reach ${args.url}: ${err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err)}`,
    );
  }
  const text = await res.text();
  if (!res.ok) {
    let message = text.slice(0, 500);
    try {
      const e = (JSON.parse(text) as { error: { code: string; message: string } }).error;
      message = `${e.code}: ${e.message}`;
    } catch {
      // not the API's error shape: show the text
    }
    throw new Error(`${method} ${path} answered ${res.status} — ${message}`);
  }
  return JSON.parse(text) as RolloutPlanDto;
}

export async function run(argv: string[], env: NodeJS.ProcessEnv, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  let args: CliArgs;
  try {
    args = parseCli(argv, env);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err(`${e.message}\n${USAGE}`);
    return EXIT.usage;
  }
  const path = `/v1/experiments/${encodeURIComponent(args.experiment)}/rollout`;
  try {
    if (args.command === 'status') {
      const plan = await call(args, 'GET', path);
      out(args.json ? JSON.stringify(plan) : describePlan(plan));
      return HEALTH_EXIT[plan.health];
    }
    const body: Record<string, string> = {};
    if (args.reason !== undefined) body.reason = args.reason;
    if (args.to !== undefined) body.to = args.to;
    const plan = await call(args, 'POST', `${path}/${args.command}`, body);
    out(args.json ? JSON.stringify(plan) : `${args.command}: done\n${describePlan(plan)}`);
    return EXIT.healthy;
  } catch (e) {
    err(`rollout ${args.command} failed: ${e instanceof Error ? e.message : String(e)}`);
    return EXIT.failed;
  }
}

// Run as a program (npm run rollout, via scripts/run-ts.js, which requires this file), not when a test imports it.
if (require.main === module || process.argv[1] === __filename) {
  run(
    process.argv.slice(2),
    process.env,
    (s) => console.log(s),
    (s) => console.error(s),
  ).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
      process.exit(EXIT.failed);
    },
  );
}
