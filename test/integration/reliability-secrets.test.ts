/**
 * Secrets never leave where they belong (docs/decisions.md): whole ceremonies (with and without a SLIP-39
 * passphrase, with an export) and a recovery run through the real CLI on SoftHSM; then every file
 * written outside the rehearsal share sheets, the transcripts, and all of stdout and stderr are
 * searched for any three consecutive words of any share, the backup key (hex, base64, base64url),
 * the PIN and the passphrase.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { combineMnemonics } from '../../electron/core/shares/index.ts';
import { createSoftHsmSandbox, type SoftHsmSandbox } from '../../electron/core/hsm/softhsm.ts';
import { runCli, writeSmallPlan } from '../helpers/reliability.ts';

// Chosen so that they cannot turn up by chance inside hex or base64 data.
const PIN = 'kR7-pin-3q9Z';
const PASSPHRASE = 'Tr0ub4dor&3 horse';
let sandbox: SoftHsmSandbox;
let work: string;

beforeAll(() => {
  sandbox = createSoftHsmSandbox();
  process.env.SOFTHSM2_CONF = sandbox.confPath;
  sandbox.initToken('secrets', PIN);
  sandbox.initToken('recovered', PIN);
  work = mkdtempSync(path.join(os.tmpdir(), 'keyrite-secrets-'));
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  sandbox?.dispose();
});

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((e) => {
    const p = path.join(dir, e);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

/** Every needle that must not appear: 3-word windows of each share, the KEK's encodings, PIN, passphrase. */
function needles(mnemonics: string[], kek: Buffer, extra: string[]): string[] {
  const out = new Set<string>(extra);
  for (const m of mnemonics) {
    const w = m.trim().toLowerCase().split(/\s+/);
    for (let i = 0; i + 3 <= w.length; i++) out.add(w.slice(i, i + 3).join(' '));
  }
  out.add(kek.toString('hex'));
  out.add(kek.toString('base64'));
  out.add(kek.toString('base64url'));
  out.add(kek.toString('base64').replace(/=+$/, ''));
  return [...out];
}

/** Text forms a reader could find a secret in: raw bytes as UTF-8 and latin1, and words with any separator collapsed. */
function haystacks(bytes: Buffer): string[] {
  const utf8 = bytes.toString('utf8');
  return [utf8.toLowerCase(), bytes.toString('latin1').toLowerCase(), utf8.toLowerCase().replace(/[^a-z]+/g, ' ')];
}

function findLeaks(where: Record<string, Buffer>, secrets: string[]): string[] {
  const leaks: string[] = [];
  for (const [name, bytes] of Object.entries(where)) {
    const hay = haystacks(bytes);
    for (const s of secrets) if (hay.some((h) => h.includes(s.toLowerCase()))) leaks.push(`${name} holds ${s.length > 24 ? 'a secret' : JSON.stringify(s)}`);
  }
  return leaks;
}

async function ceremony(id: string, opts: { passphrase?: boolean; awsExport?: boolean }) {
  const dir = path.join(work, id);
  const plan = writeSmallPlan(dir, { id, module: sandbox.module, tokenLabel: 'secrets', custodians: 3, threshold: 2, passphrase: opts.passphrase, awsExport: opts.awsExport, seal: true });
  const shares = path.join(dir, 'shares');
  mkdirSync(shares);
  const out = path.join(dir, 'out');
  const env = { KR_PIN: PIN, KR_PASS: PASSPHRASE };
  const run = await runCli(
    ['ceremony', 'run', '--rehearsal', '--plan', plan, '--out', out, '--shares-out', shares, '--confirm-from', shares, '--ack-all', '--pin-env', 'KR_PIN', ...(opts.passphrase ? ['--passphrase-env', 'KR_PASS'] : [])],
    env,
  );
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  const mnemonics = readdirSync(shares).filter((f) => f.endsWith('.txt')).map((f) => readFileSync(path.join(shares, f), 'utf8').trim());
  expect(mnemonics).toHaveLength(3);
  const kek = Buffer.from(combineMnemonics(mnemonics.slice(0, 2), opts.passphrase ? PASSPHRASE : undefined));
  expect(kek.length).toBe(32);
  return { dir, bundle: path.join(out, id), shares, mnemonics, kek, run, env };
}

describe('no secret outside the rehearsal share sheets', () => {
  it('ceremonies with and without a passphrase, an export, a recovery and an abort', async () => {
    const plain = await ceremony(`secrets-plain-${process.pid}`, { awsExport: true });
    const withPass = await ceremony(`secrets-pass-${process.pid}`, { passphrase: true });

    // A recovery of the first ceremony into another token, shares from a file outside the bundle.
    const sharesFile = path.join(plain.dir, 'recovery-shares.txt');
    writeFileSync(sharesFile, plain.mnemonics.join('\n') + '\n');
    const outputs: Record<string, Buffer> = {};
    const recover = await runCli(['recover', '--bundle', plain.bundle, '--module', sandbox.module, '--token', 'recovered', '--pin-env', 'KR_PIN', '--shares', sharesFile], plain.env);
    expect(recover.stderr).toBe('');
    expect(recover.code).toBe(0);
    expect(filesUnder(path.join(plain.bundle, 'recoveries')).length).toBeGreaterThan(0);

    // And a stopped ceremony closed by abort: its events and envelope too.
    const stoppedId = `secrets-stop-${process.pid}`;
    const sdir = path.join(work, stoppedId);
    const splan = writeSmallPlan(sdir, { id: stoppedId, module: sandbox.module, tokenLabel: 'secrets' });
    mkdirSync(path.join(sdir, 'shares'));
    mkdirSync(path.join(sdir, 'empty'));
    // No --confirm-from files: the run stops after printing, with the words in memory.
    const stopped = await runCli(['ceremony', 'run', '--rehearsal', '--plan', splan, '--out', path.join(sdir, 'out'), '--shares-out', path.join(sdir, 'shares'), '--confirm-from', path.join(sdir, 'empty'), '--ack-all', '--pin-env', 'KR_PIN'], plain.env);
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toMatch(/--confirm-from: .* does not exist .*: run `keyrite ceremony abort .*` to remove this ceremony's keys/);
    const abort = await runCli(['ceremony', 'abort', path.join(sdir, 'out', stoppedId), '--reason', 'secrets test', '--yes', '--pin-env', 'KR_PIN'], plain.env);
    expect(abort.code).toBe(0);
    const stoppedMnemonics = readdirSync(path.join(sdir, 'shares')).filter((f) => f.endsWith('.txt')).map((f) => readFileSync(path.join(sdir, 'shares', f), 'utf8').trim());

    for (const [name, r] of Object.entries({ plain: plain.run, withPass: withPass.run, recover, stopped, abort })) {
      outputs[`${name} stdout`] = Buffer.from(r.stdout);
      outputs[`${name} stderr`] = Buffer.from(r.stderr);
    }
    // Every file written, but the sheets (share-*.html/.txt) the rehearsal writes on purpose.
    for (const root of [plain.dir, withPass.dir, sdir]) {
      for (const f of filesUnder(root)) {
        if (f.startsWith(path.join(root, 'shares') + path.sep)) continue;
        if (f === sharesFile) continue; // the test's own input to recover
        outputs[path.relative(work, f)] = readFileSync(f);
      }
    }
    expect(Object.keys(outputs).some((k) => k.endsWith('transcript.jsonl'))).toBe(true);
    expect(Object.keys(outputs).some((k) => k.includes('recoveries'))).toBe(true);

    const secrets = [
      ...needles(plain.mnemonics, plain.kek, [PIN]),
      ...needles(withPass.mnemonics, withPass.kek, [PIN, PASSPHRASE]),
      ...needles(stoppedMnemonics, Buffer.alloc(0), [PIN]).filter((s) => s !== ''),
    ];
    expect(findLeaks(outputs, secrets)).toEqual([]);

    // The search itself finds what it looks for: the sheets do hold the words.
    const sheet = readFileSync(path.join(plain.shares, readdirSync(plain.shares).find((f) => f.endsWith('.txt'))!));
    expect(findLeaks({ sheet }, secrets).length).toBeGreaterThan(0);
  });
});
