import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIO } from '../../electron/cli/command.ts';
import { main } from '../../electron/cli/keyrite.ts';
import { keyidOf } from '../../electron/core/transcript/dsse.ts';
import { makeSoftwareBundle, type SoftwareBundle } from '../helpers/bundle-fixture.ts';

const repo = path.resolve(import.meta.dirname, '../..');
const tmp = mkdtempSync(path.join(tmpdir(), 'keyrite-verify-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let good: SoftwareBundle;
let stopped: SoftwareBundle;
let tampered: SoftwareBundle;
beforeAll(() => {
  good = makeSoftwareBundle(path.join(tmp, 'good'));
  stopped = makeSoftwareBundle(path.join(tmp, 'stopped'), { stopAfter: 'key.generated' });
  tampered = makeSoftwareBundle(path.join(tmp, 'tampered'));
  writeFileSync(path.join(tampered.dir, 'report.html'), '<p>replaced</p>');
});

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIO = {
    stdout: (t) => void (out += t),
    stderr: (t) => void (err += t),
    readStdin: async () => '',
    stdinIsTTY: false,
    promptSecret: async () => '',
    prompt: async () => '',
    env: {},
    cwd: tmp,
  };
  const code = await main(argv, io);
  return { code, out, err };
}

describe('keyrite verify', () => {
  it('prints a PASS or SKIP line per check, the statement digest, warnings and VALID (REHEARSAL), exit 0', async () => {
    const r = await run('verify', 'good');
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toBe('Bundle good');
    const checks = lines.filter((l) => /^(PASS|SKIP|FAIL) /.test(l));
    expect(checks.length).toBeGreaterThan(20);
    expect(checks.every((l) => /^(PASS|SKIP) [a-z0-9.-]+ — \S/.test(l))).toBe(true);
    expect(r.out).toContain('PASS signatures.verify — 2 signatures over the DSSE PAE verify');
    // A check that was not run is SKIP, never PASS.
    expect(r.out).toContain('SKIP signers.expected — no expected signer given');
    expect(r.out).toMatch(/^SKIP statement\.expected — no expected statement digest given .*; it is [0-9a-f]{64}$/m);
    expect(r.out).toMatch(/^Statement digest: [0-9a-f]{64}$/m);
    const warnings = lines.filter((l) => l.startsWith('WARNING '));
    expect(warnings.map((w) => w.split(':')[0])).toEqual(['WARNING rehearsal', 'WARNING check-in', 'WARNING co-signatures', 'WARNING sealed', 'WARNING one-time signer']);
    expect(lines.at(-1)).toBe('VALID (REHEARSAL)');
  });

  it('names the failed check on stdout and stderr, exit 1', async () => {
    const r = await run('verify', 'tampered');
    expect(r.code).toBe(1);
    expect(r.out).toContain('FAIL subjects.digests — report.html does not match its subject digest\n');
    expect(r.out.trimEnd().split('\n').at(-1)).toBe('INVALID');
    expect(r.err).toBe('keyrite: error: bundle tampered is not valid: subjects.digests: report.html does not match its subject digest\n');
  });

  it('reports an incomplete ceremony with its last step, exit 1', async () => {
    const r = await run('verify', 'stopped');
    expect(r.code).toBe(1);
    expect(r.out.trimEnd().split('\n').at(-1)).toBe('INCOMPLETE: stopped after key.generated');
    expect(r.err).toBe('keyrite: error: bundle stopped is not valid: incomplete: stopped after key.generated\n');
  });

  it('--expect-signer: passes for the keys that signed, fails for another', async () => {
    const ids = good.signers.map((s) => keyidOf(s.spki));
    expect((await run('verify', 'good', '--expect-signer', ids[0], '--expect-signer', ids[1])).code).toBe(0);
    const other = 'ab'.repeat(32);
    const r = await run('verify', 'good', '--expect-signer', other);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`FAIL signers.expected — expected signer ${other.slice(0, 12)}… did not sign`);
    const bad = await run('verify', 'good', '--expect-signer', 'xyz');
    expect(bad.code).toBe(2);
    expect(bad.err).toBe("keyrite: error: verify: --expect-signer 'xyz' is not a keyid (64 hex digits)\n");
  });

  it('--json prints {valid, verdict, checks[{name, ok, status, detail}], warnings} and nothing else', async () => {
    const ok = await run('verify', 'good', '--json');
    const j = JSON.parse(ok.out);
    expect(j.valid).toBe(true);
    expect(j.verdict).toBe('VALID (REHEARSAL)');
    expect(j.complete).toBe(true);
    expect(j.statementSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(j.warnings.length).toBe(5);
    expect(j.checks.length).toBeGreaterThan(15);
    for (const c of j.checks) expect(Object.keys(c).sort()).toEqual(['detail', 'name', 'ok', 'status']);
    expect(j.checks.find((c: { name: string }) => c.name === 'signers.expected')).toMatchObject({ ok: true, status: 'skip' });
    const bad = await run('verify', 'tampered', '--json');
    expect(bad.code).toBe(1);
    const jb = JSON.parse(bad.out);
    expect(jb.valid).toBe(false);
    expect(jb.checks.find((c: { name: string }) => c.name === 'subjects.digests')).toEqual({
      name: 'subjects.digests', ok: false, status: 'fail', detail: 'report.html does not match its subject digest',
    });
    const inc = JSON.parse((await run('verify', 'stopped', '--json')).out);
    expect(inc).toMatchObject({ valid: false, complete: false, lastStep: 'key.generated' });
  });

  it('exit 2 when BUNDLE is missing, not a folder, or not a Keyrite bundle: one line, as status and report say it', async () => {
    const missing = await run('verify', 'nowhere');
    expect(missing.code).toBe(2);
    expect(missing.err).toBe('keyrite: error: bundle nowhere does not exist\n');
    mkdirSync(path.join(tmp, 'just-a-folder'), { recursive: true });
    writeFileSync(path.join(tmp, 'just-a-folder', 'notes.txt'), 'hello');
    for (const cmd of [['verify'], ['report'], ['ceremony', 'status']]) {
      const r = await run(...cmd, 'just-a-folder');
      expect(r.code).toBe(2);
      expect(r.out).toBe('');
      expect(r.err).toBe('keyrite: error: just-a-folder has no transcript.jsonl: it is not a Keyrite bundle\n');
    }
    writeFileSync(path.join(tmp, 'afile'), 'x');
    expect((await run('verify', 'afile')).code).toBe(2);
    expect((await run('verify')).code).toBe(2);
    expect((await run('verify', 'good', '--bogus')).code).toBe(2);
  });

  it('works as a real process through bin/keyrite.mjs', () => {
    const ok = spawnSync(process.execPath, [path.join(repo, 'bin/keyrite.mjs'), 'verify', good.dir, '--json'], { encoding: 'utf8' });
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout).valid).toBe(true);
    const bad = spawnSync(process.execPath, [path.join(repo, 'bin/keyrite.mjs'), 'verify', tampered.dir], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^keyrite: error: bundle .* is not valid: subjects\.digests: /);
    const none = spawnSync(process.execPath, [path.join(repo, 'bin/keyrite.mjs'), 'verify', path.join(tmp, 'nope')], { encoding: 'utf8' });
    expect(none.status).toBe(2);
  });
});
