/**
 * The compiled CLI (dist/cli, built by `npm ci`'s prepare step and rebuilt by test/setup/build-cli.ts):
 * no TypeScript at run time, commands loaded on demand (no PKCS#11 code for --help or verify), a
 * clear error when the build is missing, and the digest of the code that ran in each ceremony.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commands } from '../../electron/cli/commands/index.ts';
import { codeDigestOf, listingDigest, NATIVE_MODULE } from '../../electron/core/code.ts';
import { makeSoftwareBundle } from '../helpers/bundle-fixture.ts';

const repo = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(repo, 'bin', 'keyrite.mjs');
const DIST = path.join(repo, 'dist', 'cli');
const tmp = mkdtempSync(path.join(tmpdir(), 'keyrite-cli-build-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// Preloaded into the CLI process: records every native module loaded and every module required,
// and prints them when the process exits.
const SPY = path.join(tmp, 'spy.cjs');
beforeAll(() => {
  writeFileSync(
    SPY,
    `const native = [];
const dlopen = process.dlopen;
process.dlopen = function (m, file, ...rest) { native.push(file); return dlopen.call(this, m, file, ...rest); };
const Module = require('node:module');
const load = Module._load;
const required = [];
Module._load = function (request, ...rest) { required.push(request); return load.call(this, request, ...rest); };
process.on('exit', () => require('node:fs').writeSync(2, '\\nSPY ' + JSON.stringify({ native, required }) + '\\n'));
`,
  );
});

function runSpied(...args: string[]): { status: number | null; stdout: string; native: string[]; required: string[] } {
  const r = spawnSync(process.execPath, ['--require', SPY, BIN, ...args], { encoding: 'utf8', cwd: tmp });
  const line = r.stderr.split('\n').find((l) => l.startsWith('SPY '));
  const spy = JSON.parse(line!.slice(4)) as { native: string[]; required: string[] };
  return { status: r.status, stdout: r.stdout, ...spy };
}

/** Files an output file of the build imports statically, transitively (what loading it evaluates). */
function staticClosure(entry: string): { files: Set<string>; external: Set<string> } {
  const files = new Set<string>();
  const external = new Set<string>();
  const visit = (f: string) => {
    if (files.has(f)) return;
    files.add(f);
    const text = readFileSync(path.join(DIST, f), 'utf8');
    for (const m of text.matchAll(/^\s*(?:import|export)\s*(?:[^'"]*?\sfrom\s*)?["']([^"']+)["']/gm)) {
      if (m[1].startsWith('./')) visit(m[1].slice(2));
      else external.add(m[1]);
    }
  };
  visit(entry);
  return { files, external };
}

describe('the compiled CLI', () => {
  it('package.json: tsx is not a run-time dependency; npm ci builds the CLI (prepare)', () => {
    const pkg = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8'));
    expect(Object.keys(pkg.dependencies)).not.toContain('tsx');
    expect(pkg.scripts.prepare).toMatch(/scripts\/build\.mjs/);
    expect(pkg.bin.keyrite).toBe('bin/keyrite.mjs');
    expect(readFileSync(BIN, 'utf8')).not.toMatch(/tsx/);
  });

  it('keyrite --help loads no command module and no native code', () => {
    const r = runSpied('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/ceremony run/);
    expect(r.native).toEqual([]);
    expect(r.required.filter((m) => /graphene|pkcs11|tsx|typescript/.test(m))).toEqual([]);
  });

  it('keyrite verify BUNDLE loads no PKCS#11 code: neither graphene-pk11 nor the native pkcs11js', () => {
    const b = makeSoftwareBundle(path.join(tmp, 'bundle'));
    const r = runSpied('verify', b.dir);
    expect(r.stdout).toMatch(/VALID/);
    expect(r.status).toBe(0);
    expect(r.native).toEqual([]);
    expect(r.required.filter((m) => /graphene|pkcs11/.test(m))).toEqual([]);
    // And the same from the build's own import graph, whatever the bundle: verify's chunk imports no HSM code.
    const verifyChunk = readdirSync(DIST).find((f) => /^verify-[A-Z0-9]+\.mjs$/.test(f))!;
    expect(verifyChunk).toBeDefined();
    expect([...staticClosure(verifyChunk).external].filter((m) => !m.startsWith('node:'))).toEqual([]);
    expect([...staticClosure('keyrite.mjs').external].filter((m) => !m.startsWith('node:'))).toEqual([]);
    // Nor zod (the policy file's reader, loaded only with --policy): it alone costs about a bare Node start.
    const loaded = [...staticClosure(verifyChunk).files].map((f) => readFileSync(path.join(DIST, f), 'utf8'));
    expect(loaded.filter((t) => t.includes('// node_modules/zod/'))).toEqual([]);
    expect(loaded.some((t) => t.includes('// electron/core/verify/index.ts'))).toBe(true);
  });

  it('a command that needs the HSM still loads it (the chunk graph is not simply cut off)', () => {
    const hsm = readdirSync(DIST).find((f) => /^hsm-list-[A-Z0-9]+\.mjs$/.test(f))!;
    expect([...staticClosure(hsm).external]).toContain('graphene-pk11');
  });

  it('without the build: one clear line, exit 1', () => {
    const dir = path.join(tmp, 'unbuilt');
    mkdirSync(path.join(dir, 'bin'), { recursive: true });
    copyFileSync(BIN, path.join(dir, 'bin', 'keyrite.mjs'));
    const r = spawnSync(process.execPath, [path.join(dir, 'bin', 'keyrite.mjs'), '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      'keyrite: error: the CLI is not built (dist/cli/keyrite.mjs is missing): run `npm run build` in the keyrite folder (npm ci does it)\n',
    );
  });

  it('the registry lists each command with the summary its module gives', async () => {
    for (const entry of commands) {
      const cmd = await entry.load();
      expect(cmd.name).toBe(entry.name);
      expect(cmd.summary).toBe(entry.summary);
    }
  });
});

describe('which software ran', () => {
  it('a ceremony records the digest of dist/cli/*.mjs and the native module, as sha256sum | sha256sum prints it; the report shows it', () => {
    const out = path.join(tmp, 'demo');
    const r = spawnSync(process.execPath, [BIN, 'demo', '--out', out], { encoding: 'utf8', cwd: tmp });
    expect(r.status, r.stderr).toBe(0);
    // The summary gives the verdict once (no "(REHEARSAL) (23 ...)") and names the warnings verify will list.
    expect(r.stdout).toMatch(/^Verification: {2}VALID \(REHEARSAL\) — \d+ checks passed, \d+ skipped, \d+ warnings \(rehearsal, [a-z-, ]+\)$/m);
    const bundle = path.join(out, readdirSync(out).find((f) => f.startsWith('demo-'))!);
    const started = JSON.parse(readFileSync(path.join(bundle, 'transcript.jsonl'), 'utf8').split('\n')[0]);
    expect(started.type).toBe('ceremony.started');
    const code = started.data.app.code as { sha256: string; what: string };

    // Independently: the sha256sum listing (byte order of paths) of the files the CLI is made of.
    const files = [...readdirSync(DIST).filter((f) => f.endsWith('.mjs')).map((f) => `dist/cli/${f}`), NATIVE_MODULE].sort();
    const listing = files.map((f) => `${createHash('sha256').update(readFileSync(path.join(repo, f))).digest('hex')}  ${f}\n`).join('');
    expect(code.sha256).toBe(createHash('sha256').update(listing).digest('hex'));
    expect(code.sha256).toBe(listingDigest(repo, files).sha256);
    expect(code.what).toMatch(/^cli dist\/cli\/\*\.mjs \(\d+ files\) \+ pkcs11js node_modules\/pkcs11js\/build\/Release\/pkcs11\.node/);

    const report = readFileSync(path.join(bundle, 'report.html'), 'utf8');
    expect(report).toContain('Code SHA-256');
    expect(report).toContain(code.sha256);
  });

  it('sha256sum agrees, where it is installed', () => {
    const which = spawnSync('sh', ['-c', 'command -v sha256sum'], { encoding: 'utf8' });
    if (which.status !== 0) return;
    const r = spawnSync('sh', ['-c', `LC_ALL=C sha256sum dist/cli/*.mjs ${NATIVE_MODULE} | sha256sum`], { cwd: repo, encoding: 'utf8' });
    const files = [...readdirSync(DIST).filter((f) => f.endsWith('.mjs')).map((f) => `dist/cli/${f}`), NATIVE_MODULE];
    expect(r.stdout.split(' ')[0]).toBe(listingDigest(repo, files).sha256);
  });
});

describe('which software ran: the desktop app', () => {
  it('packaged: app.asar and the unpacked native module, paths from the resources folder', () => {
    const resources = path.join(tmp, 'opt', 'Keyrite', 'resources');
    const native = path.join(resources, 'app.asar.unpacked', NATIVE_MODULE);
    mkdirSync(path.dirname(native), { recursive: true });
    writeFileSync(path.join(resources, 'app.asar'), 'an asar archive');
    writeFileSync(native, 'a native module');
    const url = pathToFileURL(path.join(resources, 'app.asar', 'dist', 'electron', 'main.js')).href;
    const code = codeDigestOf({ kind: 'app', url });
    const listing =
      `${createHash('sha256').update('an asar archive').digest('hex')}  app.asar\n` +
      `${createHash('sha256').update('a native module').digest('hex')}  app.asar.unpacked/${NATIVE_MODULE}\n`;
    expect(code.sha256).toBe(createHash('sha256').update(listing).digest('hex'));
    expect(code.what).toContain(`app app.asar (in ${resources}) + pkcs11js app.asar.unpacked/${NATIVE_MODULE}`);
    // Any change to the archive changes the digest.
    writeFileSync(path.join(resources, 'app.asar'), 'an asar archivf');
    expect(codeDigestOf({ kind: 'app', url }).sha256).not.toBe(code.sha256);
  });

  it('run in-process from the sources (the tests): says so', () => {
    const code = codeDigestOf(undefined);
    expect(code.what).toMatch(/^source electron\/\*\*\/\*\.ts run without a build/);
    expect(code.sha256).toMatch(/^[0-9a-f]{64}$/);
  });
});
