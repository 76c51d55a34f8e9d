import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app';
import { http } from '../helpers/people';

const root = resolve(__dirname, '../../../..');
let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
  await t.listen();
});
afterAll(async () => {
  await t?.close();
});

/** `npm run user -- …` against the test database. */
function user(args: string[], stdin?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [join(root, 'scripts/run-ts.js'), 'apps/api/src/cli/user.ts', ...args], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: t.databaseUrl },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`npm run user ${args.join(' ')} hung; stderr: ${stderr}`));
    }, 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
    child.stdin.end(stdin ?? '');
  });
}

const login = (email: string, password: string) => http(t, 'POST', '/v1/auth/login', { body: { email, password } });

describe('npm run user', () => {
  it('creates the first admin with a password from stdin, who can then sign in and manage users', async () => {
    const res = await user(['create', '--email', 'First@Example.com', '--role', 'admin', '--password-stdin'], 'a long enough passphrase\n');
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^created first@example\.com\tadmin\tactive\t[0-9a-f-]{36}\n$/);
    const signedIn = await login('first@example.com', 'a long enough passphrase');
    expect(signedIn.status).toBe(200);
    expect(signedIn.body).toMatchObject({ kind: 'user', role: 'admin' });
    const audit = (await t.admin('GET', '/v1/audit?entityType=user')).body.items;
    expect(audit[0]).toMatchObject({ action: 'user.create', actor: { kind: 'system', id: null, name: 'cli (npm run user)' } });
  });

  it('generates and prints a password once when none is piped in; set-role, disable, enable and reset work by e-mail', async () => {
    const created = await user(['create', '--email', 'gen@example.com', '--role', 'viewer']);
    expect(created.code).toBe(0);
    const password = /password \(shown only this once\): (\S+)/.exec(created.stdout)?.[1] ?? '';
    expect(password).toHaveLength(24);
    expect((await login('gen@example.com', password)).body.role).toBe('viewer');

    expect((await user(['set-role', '--email', 'gen@example.com', '--role', 'experimenter'])).stdout).toContain(
      'gen@example.com\texperimenter\tactive',
    );
    expect((await user(['disable', '--email', 'gen@example.com'])).stdout).toMatch(/gen@example\.com\texperimenter\tdisabled /);
    expect((await login('gen@example.com', password)).status).toBe(401);
    await user(['enable', '--email', 'gen@example.com']);
    const reset = await user(['reset', '--email', 'gen@example.com', '--password-stdin'], 'the new passphrase here');
    expect(reset.code).toBe(0);
    expect((await login('gen@example.com', password)).status).toBe(401);
    expect((await login('gen@example.com', 'the new passphrase here')).body.role).toBe('experimenter');

    const list = await user(['list']);
    expect(
      list.stdout
        .trim()
        .split('\n')
        .map((l) => l.split('\t').slice(0, 3).join(' ')),
    ).toEqual(['first@example.com admin active', 'gen@example.com experimenter active']);
  });

  it('refuses bad input with one line and a non-zero exit', async () => {
    const short = await user(['create', '--email', 'x@example.com', '--role', 'admin', '--password-stdin'], 'short');
    expect(short).toMatchObject({ code: 2, stderr: 'npm run user: password must be at least 12 characters\n' });
    const badRole = await user(['create', '--email', 'x@example.com', '--role', 'owner']);
    expect(badRole.code).toBe(2);
    expect(badRole.stderr).toContain('--role must be one of viewer, experimenter, admin');
    const duplicate = await user(['create', '--email', 'first@example.com', '--role', 'viewer']);
    expect(duplicate).toMatchObject({ code: 1, stderr: 'npm run user: A user with e-mail "first@example.com" already exists.\n' });
    const unknown = await user(['disable', '--email', 'nobody@example.com']);
    expect(unknown).toMatchObject({ code: 1, stderr: 'npm run user: user "nobody@example.com" was not found.\n' });
    expect((await user(['frobnicate'])).code).toBe(2);
  });
});
