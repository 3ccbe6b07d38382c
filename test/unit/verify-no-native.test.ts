/**
 * An auditor needs no native module (issue 12): `keyrite verify`, `report` and `ceremony status`
 * run where pkcs11js was never built. Each runs here in a node whose module resolution refuses
 * pkcs11js and graphene-pk11 (test/helpers/no-native.mjs); a runtime import of core/hsm anywhere in
 * their import graphs would end the process with that refusal instead of a verdict.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSoftwareBundle, type SoftwareBundle } from '../helpers/bundle-fixture.ts';

const repo = path.resolve(import.meta.dirname, '../..');
const hook = path.join(repo, 'test/helpers/no-native.mjs');
const tmp = mkdtempSync(path.join(tmpdir(), 'keyrite-no-native-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let bundle: SoftwareBundle;
beforeAll(() => {
  bundle = makeSoftwareBundle(path.join(tmp, 'bundle'));
});

/** Runs `script` (an ES module body) in a node that cannot load the PKCS#11 binding. */
function runBlocked(script: string): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, ['--import', hook, '--import', 'tsx', '--input-type=module', '-e', script], { cwd: repo, encoding: 'utf8', timeout: 60_000 });
}

/** Loads one command module and runs it as the CLI would, printing its exit status last. */
const runCommand = (module: string, exported: string, argv: string[]) => `
  import { parseCommandArgs } from './electron/cli/command.ts';
  import { processIO } from './electron/cli/io.ts';
  const cmd = (await import(${JSON.stringify(module)}))[${JSON.stringify(exported)}];
  const code = await cmd.run(parseCommandArgs(cmd, ${JSON.stringify(argv)}), processIO());
  process.stdout.write('exit ' + code + '\\n');
`;

describe('no PKCS#11 binding is loaded by the auditor\'s commands', () => {
  it('the hook really refuses graphene-pk11 and pkcs11js (else this file proves nothing)', () => {
    const r = runBlocked(`await import('./electron/core/hsm/index.ts');`);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/no-native: (graphene-pk11|pkcs11js) may not be loaded/);
  });

  it('verify: VALID (REHEARSAL) with every check run', () => {
    const r = runBlocked(runCommand('./electron/cli/commands/verify.ts', 'verifyCommand', [bundle.dir, '--json']));
    expect(r.stderr).toBe('');
    const [json, exit] = r.stdout.split(/\n(?=exit )/);
    expect(exit.trim()).toBe('exit 0');
    expect(JSON.parse(json)).toMatchObject({ valid: true, verdict: 'VALID (REHEARSAL)' });
  });

  it('report and ceremony status', () => {
    const report = runBlocked(runCommand('./electron/cli/commands/report.ts', 'reportCommand', [bundle.dir]));
    expect(report.stderr).toBe('');
    expect(report.stdout).toMatch(/^<!doctype html>/i);
    expect(report.stdout.trimEnd().split('\n').at(-1)).toBe('exit 0');
    const status = runBlocked(runCommand('./electron/cli/commands/ceremony-status.ts', 'ceremonyStatusCommand', [bundle.dir]));
    expect(status.stderr).toBe('');
    expect(status.stdout.trimEnd().split('\n').at(-1)).toBe('exit 0');
  });

  it('`keyrite verify` through the CLI entry point (main) loads only the verify command', () => {
    const r = runBlocked(`
      const { main } = await import('./electron/cli/keyrite.ts');
      process.exitCode = await main(['verify', ${JSON.stringify(bundle.dir)}]);
    `);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('VALID (REHEARSAL)');
  });

  it('`keyrite verify`, `report` and `ceremony status` as installed: the compiled CLI (bin/keyrite.mjs)', () => {
    const bin = (...argv: string[]) => spawnSync(process.execPath, ['--import', hook, path.join(repo, 'bin/keyrite.mjs'), ...argv], { encoding: 'utf8', timeout: 60_000 });
    const v = bin('verify', bundle.dir, '--json');
    expect(v.stderr).toBe('');
    expect(v.status).toBe(0);
    expect(JSON.parse(v.stdout)).toMatchObject({ valid: true, verdict: 'VALID (REHEARSAL)' });
    for (const argv of [['report', bundle.dir], ['ceremony', 'status', bundle.dir]]) {
      const r = bin(...argv);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    }
    // And the hook bites in that CLI too: a command that needs the HSM cannot load it.
    const hsm = bin('hsm', 'list', '--module', '/usr/lib/softhsm/libsofthsm2.so');
    expect(hsm.status).not.toBe(0);
    expect(hsm.stderr).toMatch(/no-native: (graphene-pk11|pkcs11js) may not be loaded/);
  });
});
