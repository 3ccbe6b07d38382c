/** `keyrite shares split|combine|inspect` through the real CLI entry (main with an in-memory IO, and one real process). */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CliIO } from '../../electron/cli/command.ts';
import { main } from '../../electron/cli/keyrite.ts';
import { shareCheckValue } from '../../electron/core/shares/index.ts';

async function run(argv: string[], stdin = '', env: NodeJS.ProcessEnv = {}, cwd = process.cwd()) {
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    readStdin: async () => stdin,
    stdinIsTTY: false,
    promptSecret: async () => {
      throw new Error('no TTY in tests');
    },
    prompt: async () => {
      throw new Error('no TTY in tests');
    },
    env,
    cwd,
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

const SECRET = '8dc652d6d6cd370d8c963141f6d79ba440300f25c467302c1d966bff8f62300d';
const mnemonicsOf = (out: string) => out.split('\n').filter((l) => l && !l.startsWith('#'));

describe('keyrite shares', () => {
  it('splits into labelled groups and combines back from a threshold subset, any case', async () => {
    const split = await run(
      ['shares', 'split', '--group-threshold', '2', '--group', '2/3', '--group', '3/5', '--group', '1/1', '--iteration-exponent', '0'],
      `${SECRET}\n`,
    );
    expect(split).toMatchObject({ code: 0, stderr: '' });
    const lines = split.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('# group 1 (2 of 3)');
    expect(lines[4]).toBe('# group 2 (3 of 5)');
    expect(lines[10]).toBe('# group 3 (1 of 1)');
    const all = mnemonicsOf(split.stdout);
    expect(all).toHaveLength(9);
    for (const m of all) expect(m.split(' ')).toHaveLength(33);

    // group 1 (shares 1, 3) and group 3; labels, blank lines and upper case are fine
    const input = ['# custodian sheets', all[0].toUpperCase(), '', all[2], '# group 3', all[8], ''].join('\n');
    const combined = await run(['shares', 'combine'], input);
    expect(combined).toEqual({ code: 0, stdout: `${SECRET}\n`, stderr: '' });
  });

  it('uses the passphrase from the named environment variable', async () => {
    const env = { KR_PASS: 'correct horse' };
    const split = await run(['shares', 'split', '--group', '2/2', '--passphrase-env', 'KR_PASS', '--no-extendable'], SECRET, env);
    expect(split.code).toBe(0);
    const shares = mnemonicsOf(split.stdout).join('\n');
    expect((await run(['shares', 'combine', '--passphrase-env', 'KR_PASS'], shares, env)).stdout).toBe(`${SECRET}\n`);
    expect((await run(['shares', 'combine'], shares)).stdout).not.toBe(`${SECRET}\n`);
    const missing = await run(['shares', 'combine', '--passphrase-env', 'NOPE'], shares);
    expect(missing).toMatchObject({ code: 2, stderr: 'keyrite: error: shares combine: --passphrase-env names NOPE, which is not set\n' });
  });

  it('refuses bad hex and bad layouts with exit 2', async () => {
    const cases: [string[], string, RegExp][] = [
      [['--group', '1/1'], 'zz' + SECRET.slice(2), /not hex \(non-hex character at offset 1\)/],
      [['--group', '1/1'], SECRET.slice(1), /odd number of hex digits/],
      [['--group', '1/1'], SECRET.slice(0, 30), /16 to 32 bytes/],
      [['--group', '1/1'], SECRET + 'aabb', /16 to 32 bytes/],
      [['--group', '1/1'], '', /standard input is empty/],
      [[], SECRET, /at least one --group/],
      [['--group', '3-5'], SECRET, /--group '3-5' must be T\/N/],
      [['--group', '1/3'], SECRET, /group 1: threshold 1 with 3 shares is not allowed/],
      [['--group', '2/3', '--group-threshold', '2'], SECRET, /group threshold must be 1 to 1/],
      [['--group', '2/3', '--iteration-exponent', '16'], SECRET, /--iteration-exponent must be a whole number from 0 to 15/],
      [['--group', '2/3', '--bogus'], SECRET, /unknown option '--bogus' \(keyrite shares split --help lists the options\)/],
    ];
    for (const [flags, stdin, msg] of cases) {
      const r = await run(['shares', 'split', ...flags], stdin);
      expect(r.code, flags.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^keyrite: error: .*\n$/);
      expect(r.stderr).toMatch(msg);
    }
  });

  it('names the bad share with exit 1 and never echoes share words', async () => {
    const vectors = JSON.parse(readFileSync(new URL('../fixtures/slip39-vectors.json', import.meta.url), 'utf8'));
    const [good1, good2] = vectors[44][1] as string[];
    const words = good2.split(' ');
    words[6] = 'foo';
    let r = await run(['shares', 'combine'], `# pile\n${good1}\n\n${words.join(' ')}\n`);
    expect(r).toEqual({ code: 1, stdout: '', stderr: "keyrite: error: share 2: unknown word at position 7 (not in the SLIP-39 word list)\n" });

    const swapped = good2.split(' ');
    [swapped[8], swapped[9]] = [swapped[9], swapped[8]];
    r = await run(['shares', 'combine'], `${good1}\n${swapped.join(' ')}\n`);
    expect(r.stderr).toBe('keyrite: error: share 2: checksum does not match (a word is wrong or two are swapped)\n');
    expect(r.code).toBe(1);

    r = await run(['shares', 'combine'], `${good1}\n${good1.toUpperCase()}\n`);
    expect(r).toMatchObject({ code: 1, stderr: 'keyrite: error: share 2: duplicate of share 1\n' });

    r = await run(['shares', 'combine'], `${good1}\n`);
    expect(r).toMatchObject({ code: 1, stderr: 'keyrite: error: not enough shares: group 1 needs 1 more share\n' });

    r = await run(['shares', 'combine'], '# nothing\n\n');
    expect(r).toMatchObject({ code: 1, stderr: 'keyrite: error: not enough shares: no mnemonics on standard input\n' });
  });

  it('inspects shares without revealing the secret, and flags unreadable ones', async () => {
    const split = await run(['shares', 'split', '--group-threshold', '2', '--group', '2/3', '--group', '1/1', '--iteration-exponent', '0'], SECRET);
    const all = mnemonicsOf(split.stdout);
    const r = await run(['shares', 'inspect'], split.stdout);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[1]).toMatch(
      new RegExp(
        `^share 2: identifier \\d+, group 1 of 2 \\(group threshold 2\\), member 2 \\(member threshold 2\\), extendable yes, iteration exponent 0, 33 words, check value ${shareCheckValue(all[1])}$`,
      ),
    );
    expect(lines[3]).toMatch(/^share 4: .*group 2 of 2 .*member 1 \(member threshold 1\)/);
    expect(r.stdout).not.toContain(SECRET);
    // No share word is printed, other than the words of the labels themselves ("group" and "check"
    // are SLIP-39 words too, so a random share may hold them).
    const labels = new Set(lines[1].split(/\W+/));
    for (const w of all[0].split(' ').slice(4).filter((x) => !labels.has(x))) expect(r.stdout.split(/\W+/)).not.toContain(w);

    const bad = await run(['shares', 'inspect'], `${all[0]}\n${all[1].split(' ').slice(0, 19).join(' ')}\n`);
    expect(bad.code).toBe(1);
    expect(bad.stdout.split('\n')[1]).toBe('share 2: INVALID: too short (19 words; a share has at least 20)');
    expect(bad.stderr).toBe('keyrite: error: share 2: too short (19 words; a share has at least 20)\n');
  });

  it('inspects a FILE given by name; one mistyped word is located by position; a missing file is exit 2', async () => {
    const split = await run(['shares', 'split', '--group', '2/3', '--iteration-exponent', '0'], SECRET);
    const all = mnemonicsOf(split.stdout);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'keyrite-inspect-'));
    const typo = all[1].split(' ');
    typo[11] = typo[11] === 'academic' ? 'acid' : 'academic';
    writeFileSync(path.join(dir, 'sheets.txt'), `# two sheets\n${all[0]}\n${typo.join(' ')}\n`);
    const r = await run(['shares', 'inspect', 'sheets.txt'], '', {}, dir);
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n')[0]).toMatch(/^share 1: identifier \d+/);
    expect(r.stdout.split('\n')[1]).toBe('share 2: INVALID: checksum does not match (word 12 looks wrong)');
    const missing = await run(['shares', 'inspect', 'nope.txt'], '', {}, dir);
    expect(missing).toMatchObject({ code: 2, stderr: 'keyrite: error: shares inspect: cannot read nope.txt (no such file)\n' });
    rmSync(dir, { recursive: true, force: true });
  });

  it('has --help for each subcommand', async () => {
    for (const sub of ['split', 'combine', 'inspect']) {
      const r = await run(['shares', sub, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: keyrite shares ${sub}`);
    }
  });

  it('works as a real process through bin/keyrite.mjs', () => {
    const split = spawnSync(process.execPath, ['bin/keyrite.mjs', 'shares', 'split', '--group', '2/3', '--iteration-exponent', '0'], {
      input: SECRET,
      encoding: 'utf8',
    });
    expect(split.status).toBe(0);
    const shares = mnemonicsOf(split.stdout);
    const combine = spawnSync(process.execPath, ['bin/keyrite.mjs', 'shares', 'combine'], { input: `${shares[2]}\n${shares[0]}\n`, encoding: 'utf8' });
    expect(combine).toMatchObject({ status: 0, stdout: `${SECRET}\n`, stderr: '' });
    const bad = spawnSync(process.execPath, ['bin/keyrite.mjs', 'shares', 'split', '--group', '1/1'], { input: 'not hex', encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^keyrite: error: shares split: standard input is not hex/);
  }, 30_000);
});
