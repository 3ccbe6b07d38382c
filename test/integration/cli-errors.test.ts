/**
 * The real `keyrite` binary on bad input: one `keyrite: error:` line naming what and where, the
 * SPEC's exit code (2 usage/unreadable input, 1 operation failed), no stack trace, nothing written.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTokenEnv, PIN, writePlan, type TokenEnv } from '../helpers/ceremony-fixture.ts';

const BIN = path.resolve('bin/keyrite.mjs');
let env: TokenEnv;
beforeAll(() => {
  env = makeTokenEnv('cli-token');
});
afterAll(() => env.sandbox.dispose());

function keyrite(args: string[], extraEnv: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, SOFTHSM2_CONF: env.sandbox.confPath, TEST_PIN: PIN, ...extraEnv },
    cwd: env.work,
    input: '',
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function expectOneLineError(r: { stderr: string }, pattern: RegExp) {
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^keyrite: error: /);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

function runArgs(planFile: string, out: string, extra: string[] = []) {
  return ['ceremony', 'run', '--rehearsal', '--plan', planFile, '--out', out, '--shares-out', path.join(out, 'shares'), '--confirm-from', path.join(out, 'shares'), '--ack-all', '--pin-env', 'TEST_PIN', ...extra];
}

function outDir(name: string): string {
  const d = path.join(env.work, name);
  mkdirSync(path.join(d, 'shares'), { recursive: true });
  return d;
}

describe('CLI misuse', () => {
  it('no command prints help and exits 2; --help exits 0', () => {
    const none = keyrite([]);
    expect(none.code).toBe(2);
    expectOneLineError(none, /no command given/);
    expect(none.stdout).toContain('Commands:');
    const h = keyrite(['--help']);
    expect(h.code).toBe(0);
    for (const c of ['demo', 'ceremony run', 'plan check', 'hsm list', 'verify', 'shares split']) expect(h.stdout).toContain(c);
    const sub = keyrite(['ceremony', 'run', '--help']);
    expect(sub.code).toBe(0);
    expect(sub.stdout).toContain('--shares-out');
  });

  it('unknown command and unknown flag: exit 2', () => {
    const a = keyrite(['frobnicate']);
    expect(a.code).toBe(2);
    expectOneLineError(a, /unknown command 'frobnicate'/);
    const b = keyrite(['verify', '--frob', 'x']);
    expect(b.code).toBe(2);
    expectOneLineError(b, /verify: .*--frob/);
  });

  it('missing plan file: exit 2 naming the file', () => {
    const out = outDir('missing');
    const r = keyrite(runArgs(path.join(env.work, 'nope.json'), out));
    expect(r.code).toBe(2);
    expectOneLineError(r, /plan .*nope\.json: no such file/);
    expect(readdirSync(out)).toEqual(['shares']);
  });

  it('malformed JSON: exit 2 naming file, line and column', () => {
    const f = path.join(env.work, 'broken.json');
    writeFileSync(f, '{\n  "version": 1,\n  "id": "abc",,\n}\n');
    const out = outDir('broken');
    const r = keyrite(runArgs(f, out));
    expect(r.code).toBe(2);
    expectOneLineError(r, /broken\.json: malformed JSON at line 3, column \d+/);
    expect(readdirSync(out)).toEqual(['shares']);
  });

  it('a plan breaking the schema: exit 2 naming the field', () => {
    const f = writePlan(env, { id: 'schema-bad', algorithm: 'ec-p256' });
    const plan = JSON.parse(readFileSync(f, 'utf8'));
    plan.backup.groups[0].threshold = 7;
    writeFileSync(f, JSON.stringify(plan));
    const out = outDir('schema');
    const r = keyrite(runArgs(f, out));
    expect(r.code).toBe(2);
    expectOneLineError(r, /backup\.groups\[0\]\.threshold: is 7 but the group has 3 custodian/);
    const c = keyrite(['plan', 'check', f]);
    expect(c.code).toBe(2);
    expect(c.stdout).toMatch(/backup\.groups\[0\]\.threshold/);
  });

  it('wrong PIN: exit 1, no PIN in the message, nothing written', () => {
    const f = writePlan(env, { id: 'wrong-pin', algorithm: 'ec-p256' });
    const out = outDir('wrongpin');
    const r = keyrite(runArgs(f, out), { TEST_PIN: '000999111' });
    expect(r.code).toBe(1);
    expectOneLineError(r, /wrong PIN for token 'cli-token'/);
    expect(r.stderr).not.toContain('000999111');
    expect(r.stdout).not.toContain('000999111');
    expect(existsSync(path.join(out, 'wrong-pin'))).toBe(false);
    expect(readdirSync(path.join(out, 'shares'))).toEqual([]);
  });

  it('no such token: exit 1 naming the token', () => {
    const f = writePlan(env, { id: 'no-token', algorithm: 'ec-p256' });
    const plan = JSON.parse(readFileSync(f, 'utf8'));
    plan.hsm.tokenLabel = 'not-plugged-in';
    writeFileSync(f, JSON.stringify(plan));
    const out = outDir('notoken');
    const r = keyrite(runArgs(f, out));
    expect(r.code).toBe(1);
    expectOneLineError(r, /not-plugged-in/);
    expect(existsSync(path.join(out, 'no-token'))).toBe(false);
  });

  it('a module path that is not a PKCS#11 library: exit 2', () => {
    const fake = path.join(env.work, 'libfake.so');
    writeFileSync(fake, 'this is not a shared library');
    const f = writePlan(env, { id: 'bad-module', algorithm: 'ec-p256' });
    const plan = JSON.parse(readFileSync(f, 'utf8'));
    plan.hsm.module = fake;
    writeFileSync(f, JSON.stringify(plan));
    const out = outDir('badmodule');
    const r = keyrite(runArgs(f, out));
    expect(r.code).toBe(2);
    expectOneLineError(r, /libfake\.so is not a PKCS#11 library/);
    expect(existsSync(path.join(out, 'bad-module'))).toBe(false);
    const l = keyrite(['hsm', 'list', '--module', fake]);
    expect(l.code).toBe(2);
    expectOneLineError(l, /libfake\.so/);
  });

  it('a PIN variable that is not set: exit 2', () => {
    const f = writePlan(env, { id: 'no-pin-var', algorithm: 'ec-p256' });
    const out = outDir('nopinvar');
    const r = keyrite([...runArgs(f, out).slice(0, -2), '--pin-env', 'KEYRITE_NO_SUCH_VAR']);
    expect(r.code).toBe(2);
    expectOneLineError(r, /KEYRITE_NO_SUCH_VAR, which is not set/);
  });

  it('shares written into the bundle folder are refused before the token is touched', () => {
    const f = writePlan(env, { id: 'shares-inside', algorithm: 'ec-p256' });
    const out = outDir('inside');
    const inside = path.join(out, 'shares-inside', 'sheets');
    const r = keyrite(['ceremony', 'run', '--rehearsal', '--plan', f, '--out', out, '--shares-out', inside, '--confirm-from', inside, '--ack-all', '--pin-env', 'TEST_PIN']);
    expect(r.code).toBe(2);
    expectOneLineError(r, /--shares-out .* is inside the bundle folder .*shares-inside; shares are never in the bundle/);
    expect(existsSync(path.join(out, 'shares-inside'))).toBe(false);
  });

  it('verify of a folder that does not exist: exit 2', () => {
    const r = keyrite(['verify', path.join(env.work, 'no-bundle')]);
    expect(r.code).toBe(2);
    expectOneLineError(r, /no-bundle/);
  });
});
