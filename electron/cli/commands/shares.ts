/**
 * `keyrite shares split|combine|inspect` (docs/commands.md): SLIP-39 over standard input and output,
 * for rehearsals, recovery teams sorting sheets, and interoperability checks.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../../core/errors.ts';
import { combineMnemonics, decodeMnemonic, splitSecret, Slip39Error } from '../../core/shares/index.ts';
import { optString, secretFromEnv, type CliIO, type Command, type ParsedArgs } from '../command.ts';

/** Mnemonic lines of an input: blank lines and `#` label lines are skipped. */
export function mnemonicLines(text: string): string[] {
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
}

function passphraseFrom(args: ParsedArgs, io: CliIO, cmd: string): string {
  const v = optString(args, 'passphrase-env');
  return v === undefined ? '' : secretFromEnv(io, cmd, 'passphrase-env', v);
}

function intFlag(args: ParsedArgs, cmd: string, name: string, dflt: number, lo: number, hi: number): number {
  const v = optString(args, name);
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v) || Number(v) < lo || Number(v) > hi) throw new UsageError(`${cmd}: --${name} must be a whole number from ${lo} to ${hi} (got '${v}')`);
  return Number(v);
}

/** The hex secret on standard input: whitespace ignored, 16 to 32 bytes, an even number of bytes. */
function parseHexSecret(text: string, cmd: string): Uint8Array {
  const hex = text.replace(/\s+/g, '');
  if (hex === '') throw new UsageError(`${cmd}: standard input is empty; expected the secret in hex`);
  const bad = hex.search(/[^0-9a-fA-F]/);
  // The offending character is not shown: it may be part of a secret pasted in another encoding.
  if (bad >= 0) throw new UsageError(`${cmd}: standard input is not hex (non-hex character at offset ${bad + 1})`);
  if (hex.length % 2 !== 0) throw new UsageError(`${cmd}: standard input has an odd number of hex digits (${hex.length})`);
  const n = hex.length / 2;
  if (n < 16 || n > 32 || n % 2 !== 0) {
    throw new UsageError(`${cmd}: the secret must be 16 to 32 bytes and an even number of bytes (got ${n})`);
  }
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

export const sharesSplitCommand: Command = {
  name: 'shares split',
  summary: 'Split a hex secret (stdin) into SLIP-39 mnemonics',
  help: `Usage: keyrite shares split --group T/N [--group T/N]... [--group-threshold N]
                            [--passphrase-env VAR] [--iteration-exponent E] [--no-extendable]

Reads a secret in hex on standard input (16 to 32 bytes, an even number of bytes; whitespace is
ignored) and prints SLIP-39 mnemonics, one per line, group by group. Each group starts with a
label line "# group G (T of N)".

Options:
  --group T/N               a group of N shares, any T of which restore it (1-16 shares; T may be 1
                            only when N is 1). Repeat for more groups, in order. At least one is required.
  --group-threshold N       how many groups are needed (default 1)
  --passphrase-env VAR      encrypt with the SLIP-39 passphrase in environment variable VAR
                            (printable ASCII; default: no passphrase)
  --iteration-exponent E    PBKDF2 cost: 10000 * 2^E iterations (0-15, default 1)
  --no-extendable           make a non-extendable set (default: extendable, as SLIP-39 recommends)

Exit status: 0 success, 2 bad usage or input (not hex, wrong length, bad group layout).
`,
  options: {
    group: { type: 'string', multiple: true },
    'group-threshold': { type: 'string' },
    'passphrase-env': { type: 'string' },
    'iteration-exponent': { type: 'string' },
    'no-extendable': { type: 'boolean' },
  },
  async run(args, io) {
    const cmd = 'shares split';
    const groupFlags = (args.values.group as string[] | undefined) ?? [];
    if (groupFlags.length === 0) throw new UsageError(`${cmd}: at least one --group T/N is required`);
    const groups = groupFlags.map((g) => {
      const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(g);
      if (!m) throw new UsageError(`${cmd}: --group '${g}' must be T/N, e.g. 3/5`);
      return { threshold: Number(m[1]), count: Number(m[2]) };
    });
    const groupThreshold = intFlag(args, cmd, 'group-threshold', 1, 1, 16);
    const iterationExponent = intFlag(args, cmd, 'iteration-exponent', 1, 0, 15);
    const passphrase = passphraseFrom(args, io, cmd);
    const secret = parseHexSecret(await io.readStdin(), cmd);
    let result;
    try {
      result = splitSecret(secret, { groupThreshold, groups, passphrase, iterationExponent, extendable: !args.values['no-extendable'] });
    } catch (err) {
      if (err instanceof UsageError) throw new UsageError(`${cmd}: ${err.message}`);
      throw err;
    } finally {
      secret.fill(0);
    }
    const lines: string[] = [];
    result.groups.forEach((g, i) => {
      lines.push(`# group ${i + 1} (${g.threshold} of ${g.count})`, ...g.mnemonics);
    });
    io.stdout(lines.join('\n') + '\n');
    return 0;
  },
};

export const sharesCombineCommand: Command = {
  name: 'shares combine',
  summary: 'Recover a secret from SLIP-39 mnemonics (stdin)',
  help: `Usage: keyrite shares combine [--passphrase-env VAR]

Reads SLIP-39 mnemonics on standard input, one per line (blank lines and lines starting with #
are ignored; any letter case; a word may be given by its first 4 letters) and prints the secret
as lowercase hex and a newline.

Every share given is checked; the secret is made from exactly the threshold of each group and the
group threshold of groups, taking shares in input order (extra shares are not used). Shares are
numbered 1, 2, ... in input order, counting only mnemonic lines, and errors name them that way.

Options:
  --passphrase-env VAR   the SLIP-39 passphrase is in environment variable VAR (default: none)

Exit status: 0 success, 1 invalid share set (unknown word, checksum, different set, duplicate,
not enough shares), 2 bad usage.
`,
  options: { 'passphrase-env': { type: 'string' } },
  async run(args, io) {
    const passphrase = passphraseFrom(args, io, 'shares combine');
    const mnemonics = mnemonicLines(await io.readStdin());
    if (mnemonics.length === 0) throw new Slip39Error('not enough shares: no mnemonics on standard input');
    const secret = combineMnemonics(mnemonics, passphrase);
    io.stdout(Buffer.from(secret).toString('hex') + '\n');
    secret.fill(0);
    return 0;
  },
};

export const sharesInspectCommand: Command = {
  name: 'shares inspect',
  summary: 'Describe SLIP-39 mnemonics (FILE or stdin) without recovering the secret',
  help: `Usage: keyrite shares inspect [FILE]

Reads SLIP-39 mnemonics from FILE, or from standard input without one (same format as
'shares combine'), and prints one line per share: its set identifier, group and member numbers
with the thresholds, the extendable flag, the iteration exponent, the word count and its check
value (docs/transcript.md). It never prints the secret.
A share that cannot be read gets a line saying why; the command then exits with status 1.

Exit status: 0 every share is readable, 1 some share is not, 2 bad usage.
`,
  options: {},
  positionals: { min: 0, max: 1, names: 'FILE' },
  async run(args, io) {
    const file = args.positionals[0];
    const mnemonics = mnemonicLines(file === undefined ? await io.readStdin() : readInputFile(io, 'shares inspect', file));
    if (mnemonics.length === 0) throw new Slip39Error(`no mnemonics ${file === undefined ? 'on standard input' : `in ${file}`}`);
    const lines: string[] = [];
    const bad: string[] = [];
    mnemonics.forEach((m, i) => {
      try {
        const s = decodeMnemonic(m, i + 1);
        s.value.fill(0);
        lines.push(
          `share ${i + 1}: identifier ${s.identifier}, group ${s.group} of ${s.groupCount} (group threshold ${s.groupThreshold}), ` +
            `member ${s.member} (member threshold ${s.memberThreshold}), extendable ${s.extendable ? 'yes' : 'no'}, ` +
            `iteration exponent ${s.iterationExponent}, ${s.wordCount} words, check value ${s.checkValue}`,
        );
      } catch (err) {
        if (!(err instanceof Slip39Error)) throw err;
        bad.push(err.message);
        lines.push(`${err.message.replace(/^(share \d+): /, '$1: INVALID: ')}`);
      }
    });
    io.stdout(lines.join('\n') + '\n');
    if (bad.length > 0) {
      throw new Slip39Error(bad.length === 1 ? bad[0] : `${bad.length} of ${mnemonics.length} shares are invalid; first: ${bad[0]}`);
    }
    return 0;
  },
};

/** A named input file; unreadable is bad input (exit 2), named by the path given. */
function readInputFile(io: CliIO, cmd: string, file: string): string {
  try {
    return readFileSync(path.resolve(io.cwd, file), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`${cmd}: cannot read ${file} (${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a folder, not a file' : (code ?? 'unreadable')})`);
  }
}
