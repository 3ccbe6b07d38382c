/**
 * Small CLI behaviours through the real entry point (main, in-memory IO): `keyrite ceremony --help`
 * lists the ceremony subcommands; `demo --algorithm` names only algorithms the demo can run;
 * `report BUNDLE` without --out refuses to dump HTML on a terminal but still writes to a pipe.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliIO } from '../../electron/cli/command.ts';
import { main } from '../../electron/cli/keyrite.ts';
import { commands } from '../../electron/cli/commands/index.ts';
import { makeSoftwareBundle } from '../helpers/bundle-fixture.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'keyrite-cli-small-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function run(argv: string[], o: { stdoutIsTTY?: boolean } = {}) {
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    readStdin: async () => '',
    stdinIsTTY: false,
    stdoutIsTTY: o.stdoutIsTTY ?? false,
    promptSecret: async () => {
      throw new Error('no TTY in tests');
    },
    prompt: async () => {
      throw new Error('no TTY in tests');
    },
    env: {},
    cwd: tmp,
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

describe('small CLI behaviours', () => {
  it('ceremony --help lists the ceremony subcommands (exit 0)', async () => {
    for (const flag of ['--help', '-h']) {
      const r = await run(['ceremony', flag]);
      expect(r).toMatchObject({ code: 0, stderr: '' });
      for (const sub of ['ceremony run', 'ceremony status', 'ceremony abort', 'ceremony sign']) expect(r.stdout).toContain(sub);
    }
    expect((await run(['shares', '--help'])).stdout).toContain('shares inspect');
    expect((await run(['ceremony', 'bogus'])).code).toBe(2);
  });

  it("every command's --help lists its options in one column and fits a 110-column terminal", async () => {
    expect((await run(['--help'])).stdout.split('\n').filter((l) => l.length > 110)).toEqual([]);
    for (const entry of commands) {
      const help = (await run([...entry.name.split(' '), '--help'])).stdout;
      const wide = help.split('\n').filter((l) => l.length > 110);
      expect(wide, `${entry.name} --help`).toEqual([]);
      const block = help.split('\nOptions:\n')[1]?.split('\n\n')[0];
      if (block === undefined) continue;
      // "  --flag ARG   description": the description column of each option line, and the indent of
      // each continuation line, are all one column.
      const columns = block.split('\n').filter((l) => l.trim() !== '').map((l) => (l.startsWith('  --') ? (/^ {2}--\S+(?: [A-Z][A-Z0-9|/]*)? {2,}/.exec(l)?.[0].length ?? -1) : l.length - l.trimStart().length));
      expect(new Set(columns).size, `${entry.name} --help options:\n${block}`).toBe(1);
    }
  });

  it('an unknown option or a missing argument is one lower-case line that points at --help (exit 2)', async () => {
    const bogus = await run(['verify', 'x', '--bogus']);
    expect(bogus).toMatchObject({ code: 2, stdout: '', stderr: "keyrite: error: verify: unknown option '--bogus' (keyrite verify --help lists the options)\n" });
    const missing = await run(['verify']);
    expect(missing).toMatchObject({ code: 2, stderr: 'keyrite: error: verify: missing BUNDLE (keyrite verify --help shows the usage)\n' });
  });

  it('demo --algorithm names only what the demo can run', async () => {
    const r = await run(['demo', '--algorithm', 'dsa-1024', '--out', path.join(tmp, 'demo')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^keyrite: error: demo: --algorithm must be one of .*ec-p384/);
    expect(r.stderr).not.toContain('ed25519');
    expect((await run(['demo', '--help'])).stdout).not.toContain('ed25519');
  });

  it('report BUNDLE without --out: refused on a terminal (exit 2, nothing written), HTML to a pipe', async () => {
    const b = makeSoftwareBundle(path.join(tmp, 'bundle'));
    const tty = await run(['report', b.dir], { stdoutIsTTY: true });
    expect(tty.code).toBe(2);
    expect(tty.stdout).toBe('');
    expect(tty.stderr).toMatch(/^keyrite: error: report: give --out FILE .*standard output is a terminal\n$/);
    const piped = await run(['report', b.dir]);
    expect(piped.code).toBe(0);
    expect(piped.stdout).toMatch(/^<!doctype html>/i);
  });

  it('report --attestation --paper takes the paper name in any letter case, and refuses other sizes (exit 2)', async () => {
    const b = makeSoftwareBundle(path.join(tmp, 'bundle-paper'));
    for (const [given, size] of [['letter', 'letter'], ['LETTER', 'letter'], ['a4', 'A4'], ['Letter', 'letter']]) {
      const r = await run(['report', b.dir, '--attestation', '--paper', given]);
      expect(r, given).toMatchObject({ code: 0, stderr: '' });
      expect(r.stdout).toContain(`@page{size:${size};`);
    }
    const legal = await run(['report', b.dir, '--attestation', '--paper', 'legal']);
    expect(legal).toMatchObject({ code: 2, stderr: "keyrite: error: report: --paper must be A4 or Letter, not 'legal'\n" });
  });
});
