/**
 * `keyrite history` on real ceremonies (SoftHSM): generate → rotate → rotate is one consistent line;
 * a forged predecessor (another bundle with the same ceremony id), a missing middle bundle and a
 * fork are each reported with exit 1, naming the bundles; bad usage is exit 2. The command is also
 * run in a node that cannot load the PKCS#11 binding: history needs none.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../electron/cli/keyrite.ts';
import type { HistoryResult } from '../../electron/core/lifecycle/history.ts';
import { captureIO, makeTokenEnv, PIN, type TokenEnv } from '../helpers/ceremony-fixture.ts';
import { runLifecycle } from '../helpers/lifecycle-fixture.ts';

let env: TokenEnv;
let bundles: string;
const b: Record<string, string> = {};

beforeAll(async () => {
  env = makeTokenEnv('ceremony-token', ['other-token']);
  bundles = path.join(env.work, 'bundles');
  const v1 = await runLifecycle(env, { id: 'acme-root', algorithm: 'ec-p256', label: 'acme-v1' });
  b.v1shares = v1.sharesOut;
  const v2 = await runLifecycle(env, { id: 'acme-root-v2', algorithm: 'ec-p256', label: 'acme-v2', ceremony: 'rotate', previous: v1.bundleDir });
  const v3 = await runLifecycle(env, { id: 'acme-root-v3', algorithm: 'ec-p256', label: 'acme-v3', ceremony: 'rotate', previous: v2.bundleDir });
  // A second rotation of version 1, kept elsewhere: a fork.
  const fork = await runLifecycle(env, { id: 'acme-root-v2b', algorithm: 'ec-p256', label: 'acme-v2b', ceremony: 'rotate', previous: v1.bundleDir, outDir: path.join(env.work, 'fork') });
  // Another ceremony with version 1's id (on another token): passed off as version 1, it breaks the link.
  const forged = await runLifecycle({ ...env, tokenLabel: 'other-token' }, { id: 'acme-root', algorithm: 'ec-p256', label: 'acme-v1-forged', outDir: path.join(env.work, 'forged') });
  Object.assign(b, { v1: v1.bundleDir, v2: v2.bundleDir, v3: v3.bundleDir, fork: fork.bundleDir, forged: forged.bundleDir });
}, 240_000);

afterAll(() => {
  env?.sandbox.dispose();
  if (env) rmSync(env.work, { recursive: true, force: true });
});

async function history(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = captureIO({ cwd: env.work });
  const code = await main(['history', ...args], io);
  return { code, out: io.out.join(''), err: io.err.join('') };
}

const rel = (p: string) => path.relative(env.work, p);

describe('keyrite history', () => {
  it('a folder of bundles: one key, its ceremonies in order, v3 active and v1, v2 deactivated', async () => {
    const r = await history('bundles', '--json');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const h = JSON.parse(r.out) as HistoryResult;
    expect(h.consistent).toBe(true);
    expect(h.keys).toHaveLength(1);
    expect(h.keys[0].ceremonies.map((c) => [c.ceremonyId, c.kind, c.keyVersion, c.previous?.link])).toEqual([
      ['acme-root', 'generate', 1, undefined],
      ['acme-root-v2', 'rotate', 2, 'ok'],
      ['acme-root-v3', 'rotate', 3, 'ok'],
    ]);
    expect(h.keys[0].versions.map((v) => [v.version, v.label, v.state])).toEqual([
      [1, 'acme-v1', 'deactivated'],
      [2, 'acme-v2', 'deactivated'],
      [3, 'acme-v3', 'active'],
    ]);
    expect(h.keys[0].versions[2].backup).toMatchObject({ groupThreshold: 1, groups: [{ threshold: 2, count: 3 }], custodians: ['c1', 'c2', 'c3'], identifier: expect.any(Number), sharesCurrent: true });
    const text = await history(rel(b.v3), rel(b.v1), rel(b.v2));
    expect(text.out).toMatch(/backup: 1 of 1 group\(s\): group 1 2-of-3; custodians c1, c2, c3; shares of set \d+ current/);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/1\. acme-root generate[\s\S]*2\. acme-root-v2 rotate[\s\S]*3\. acme-root-v3 rotate/);
    expect(text.out).toContain("v3 'acme-v3' (ec-p256, SHA-256 ");
    expect(text.out.trimEnd().split('\n').at(-1)).toBe('CONSISTENT');
  });

  it('a missing middle bundle is a gap naming the bundle that points to it', async () => {
    const r = await history(rel(b.v1), rel(b.v3));
    expect(r.code).toBe(1);
    expect(r.out).toContain(`GAP ${rel(b.v3)} (ceremony acme-root-v3) continues ceremony acme-root-v2`);
    expect(r.err).toMatch(/^keyrite: error: history: gap: bundles\/acme-root-v3 \(ceremony acme-root-v3\) continues ceremony acme-root-v2 .*not among those given\n$/);
  });

  it('a fork names both ceremonies that continue the same one', async () => {
    const r = await history('bundles', 'fork', '--json');
    expect(r.code).toBe(1);
    const h = JSON.parse(r.out) as HistoryResult;
    expect(h.problems).toEqual([{ kind: 'fork', bundles: expect.arrayContaining([rel(b.v2), rel(b.fork)]), detail: expect.stringContaining(`both continue ${rel(b.v1)}`) }]);
    expect(r.err).toMatch(/history: fork: /);
  });

  it('a forged predecessor (same ceremony id, another statement) is a broken link naming both bundles', async () => {
    const r = await history(rel(b.forged), rel(b.v2));
    expect(r.code).toBe(1);
    expect(r.out).toContain(`BROKEN-LINK ${rel(b.v2)} (ceremony acme-root-v2) continues ceremony acme-root with statement`);
    expect(r.out).toContain(`but ${rel(b.forged)} has statement`);
    expect(r.err).toMatch(/history: broken-link: bundles\/acme-root-v2 .* forged\/acme-root has statement [0-9a-f]{64}/);
  });

  it('a bundle that no longer verifies is reported, and its version is not active', async () => {
    const copy = path.join(env.work, 'tampered');
    mkdirSync(copy, { recursive: true });
    cpSync(b.v3, path.join(copy, 'acme-root-v3'), { recursive: true });
    const { writeFileSync, readFileSync } = await import('node:fs');
    const report = path.join(copy, 'acme-root-v3', 'report.html');
    writeFileSync(report, readFileSync(report, 'utf8').replace('</body>', '<p>edited</p></body>'));
    const r = await history(rel(b.v1), rel(b.v2), 'tampered', '--json');
    expect(r.code).toBe(1);
    const h = JSON.parse(r.out) as HistoryResult;
    expect(h.problems).toEqual([expect.objectContaining({ kind: 'invalid', bundles: ['tampered/acme-root-v3'] })]);
    expect(h.keys[0].versions.map((v) => v.state)).toEqual(['deactivated', 'active', 'pre-activation']);
  });

  it('bad usage is exit 2: no DIR, a folder without bundles, an unknown flag', async () => {
    expect((await history()).code).toBe(2);
    mkdirSync(path.join(env.work, 'empty'), { recursive: true });
    const empty = await history('empty');
    expect(empty.code).toBe(2);
    expect(empty.err).toBe('keyrite: error: history: empty is neither a Keyrite bundle nor a folder of bundles\n');
    expect((await history('bundles', '--nope')).code).toBe(2);
  });

  it('lists a recovery of a version, into which token and under which label', async () => {
    const { readdirSync, readFileSync, writeFileSync } = await import('node:fs');
    const sheets = readdirSync(b.v1shares).filter((f) => f.endsWith('.txt')).sort().slice(0, 2);
    writeFileSync(path.join(env.work, 'v1-shares.txt'), sheets.map((f) => readFileSync(path.join(b.v1shares, f), 'utf8').trim()).join('\n') + '\n');
    const io = captureIO({ cwd: env.work, env: { ...process.env, TEST_PIN: PIN } });
    const rc = await main(['recover', '--bundle', rel(b.v1), '--module', env.sandbox.module, '--token', 'other-token', '--label', 'acme-v1-restored', '--pin-env', 'TEST_PIN', '--shares', 'v1-shares.txt'], io);
    expect(io.err.join('')).toBe('');
    expect(rc).toBe(0);
    const r = await history('bundles', '--json');
    const h = JSON.parse(r.out) as HistoryResult;
    expect(h.keys[0].recoveries).toEqual([expect.objectContaining({ ceremonyId: 'acme-root', verdict: 'VALID', label: 'acme-v1-restored', token: expect.stringMatching(/^other-token \(serial /) })]);
    expect((await history('bundles')).out).toMatch(/Recoveries:\n    acme-root recoveries\/\S+: VALID, 'acme-v1-restored' into token other-token/);
  });

  it('runs where the PKCS#11 binding cannot be loaded', () => {
    const repo = path.resolve(import.meta.dirname, '../..');
    const r = spawnSync(
      process.execPath,
      ['--import', path.join(repo, 'test/helpers/no-native.mjs'), '--import', 'tsx', '--input-type=module', '-e', `
        const { main } = await import('./electron/cli/keyrite.ts');
        process.exitCode = await main(['history', ${JSON.stringify(bundles)}]);`],
      { cwd: repo, encoding: 'utf8', timeout: 60_000 },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('CONSISTENT');
  });
});
