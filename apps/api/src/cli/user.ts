import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { emailSchema, passwordSchema, ROLES, type Role, type UserDto } from '@strata/contracts';
import { systemActor } from '../common/guards/principal';
import { loadConfig } from '../config/app-config';
import { createDataSource, runMigrations } from '../database/data-source';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../database/embedded-postgres';
import { AuditService } from '../modules/audit/audit.service';
import { UserService } from '../modules/user/user.service';

const USAGE = `usage: npm run user -- <command> [options]
  create    --email E --role viewer|experimenter|admin [--password-stdin]
  list
  set-role  --email E --role viewer|experimenter|admin
  disable   --email E          (ends the person's sessions)
  enable    --email E
  reset     --email E [--password-stdin]   (sets a new password; ends the person's sessions)
Without --password-stdin, create and reset generate a password and print it once.
Uses DATABASE_URL, or the embedded PostgreSQL under STRATA_DATA_DIR (default .data/) while Strata is stopped.
With Strata running on the embedded database, use the API instead: POST /v1/users with the admin key.`;

type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** What went wrong, for one line on stderr and exit code 1 (2 for a usage error). */
class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

function option(values: Values, name: string): string {
  const value = values[name];
  if (typeof value !== 'string' || value === '') throw new CliError(`--${name} is required\n${USAGE}`, 2);
  return value;
}

function role(values: Values): Role {
  const value = option(values, 'role');
  if (!(ROLES as readonly string[]).includes(value)) throw new CliError(`--role must be one of ${ROLES.join(', ')}`, 2);
  return value as Role;
}

function email(values: Values): string {
  const parsed = emailSchema.safeParse(option(values, 'email'));
  if (!parsed.success) throw new CliError(`--email ${parsed.error.issues[0]?.message ?? 'is not valid'}`, 2);
  return parsed.data;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  // One trailing newline (echo, a file) is not part of the password.
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** The password from stdin (checked against the policy), or a generated one to print once. */
async function password(values: Values): Promise<{ password: string; generated: boolean }> {
  if (values['password-stdin'] !== true) return { password: randomBytes(18).toString('base64url'), generated: true };
  const given = await readStdin();
  const parsed = passwordSchema.safeParse(given);
  if (!parsed.success) throw new CliError(`password ${parsed.error.issues[0]?.message ?? 'is not valid'}`, 2);
  return { password: parsed.data, generated: false };
}

const line = (u: UserDto): string => `${u.email}\t${u.role}\t${u.disabledAt ? `disabled ${u.disabledAt}` : 'active'}\t${u.id}`;

async function run(command: string, values: Values, users: UserService, say: (s: string) => void): Promise<void> {
  const actor = systemActor('cli (npm run user)');
  switch (command) {
    case 'create': {
      const request = { email: email(values), role: role(values) };
      const secret = await password(values);
      const user = await users.create(actor, { ...request, password: secret.password });
      say(`created ${line(user)}`);
      if (secret.generated) say(`password (shown only this once): ${secret.password}`);
      return;
    }
    case 'list': {
      for (let offset = 0; ; offset += 500) {
        const page = await users.list(500, offset);
        page.items.forEach((u) => say(line(u)));
        if (offset + page.items.length >= page.total) return;
      }
    }
    case 'set-role': {
      const id = await users.idForEmail(email(values));
      say(`updated ${line(await users.update(actor, id, { role: role(values) }))}`);
      return;
    }
    case 'disable':
    case 'enable': {
      const id = await users.idForEmail(email(values));
      say(`updated ${line(await users.update(actor, id, { disabled: command === 'disable' }))}`);
      return;
    }
    case 'reset': {
      const id = await users.idForEmail(email(values));
      const secret = await password(values);
      say(`password reset for ${line(await users.setPassword(actor, id, secret.password))}`);
      if (secret.generated) say(`password (shown only this once): ${secret.password}`);
      return;
    }
    default:
      throw new CliError(`unknown command "${command}"\n${USAGE}`, 2);
  }
}

async function main(): Promise<void> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        email: { type: 'string' },
        role: { type: 'string' },
        'password-stdin': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new CliError(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`, 2);
  }
  const command = parsed.positionals[0];
  if (parsed.values.help === true || command === undefined)
    throw new CliError(USAGE, command === undefined && parsed.values.help !== true ? 2 : 0);

  const config = loadConfig();
  let embedded: EmbeddedPostgresHandle | null = null;
  let url = config.databaseUrl;
  if (!url) {
    embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, persistent: true });
    url = embedded.url;
  }
  const dataSource = createDataSource({ url, poolSize: 2 });
  try {
    await dataSource.initialize();
    await runMigrations(dataSource);
    await run(command, parsed.values, new UserService(dataSource, new AuditService(dataSource)), (s) => process.stdout.write(`${s}\n`));
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    if (embedded) await embedded.stop();
  }
}

main().catch((error: unknown) => {
  const exitCode = error instanceof CliError ? error.exitCode : 1;
  const message = error instanceof Error ? error.message : String(error);
  (exitCode === 0 ? process.stdout : process.stderr).write(`${exitCode === 0 ? message : `npm run user: ${message}`}\n`);
  process.exit(exitCode);
});
