/**
 * `keyrite recover` refusing what it must refuse, on real SoftHSM tokens: each bad share (unknown
 * word, swapped words, a share of another ceremony, a duplicate, too few, a wrong passphrase) gives
 * exit 1 and one line naming the share's position and the reason — through standard input and
 * through --shares FILE — and leaves the target token exactly as it was (pkcs11-tool's listing).
 * Also: wrong PIN, missing token, a bundle that does not verify (and --force-unverified, recorded).
 */
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { Recovery } from '../../electron/core/ceremony/recover.ts';
import { canonicalJson } from '../../electron/core/transcript/chain.ts';
import { createSoftHsmSandbox, type SoftHsmSandbox } from '../../electron/core/hsm/softhsm.ts';
import { main } from '../../electron/cli/keyrite.ts';
import { captureIO, cli, cliProcess, runCeremony, tokenObjects, type CeremonyFixture } from './recover-fixtures.ts';

const PIN = '13579';
const PASSPHRASE = 'TREZOR correct horse';
let sb: SoftHsmSandbox;
let work: string;
let a: CeremonyFixture; // 2 of 3, with a SLIP-39 passphrase
let b: CeremonyFixture; // another ceremony: its shares belong to another set
let before: string[];

const words = (m: string) => m.split(' ');
const withWord = (m: string, i: number, w: string) => words(m).map((x, j) => (j === i ? w : x)).join(' ');
const swapped = (m: string, i: number) => {
  const ws = words(m);
  [ws[i], ws[i + 1]] = [ws[i + 1], ws[i]];
  return ws.join(' ');
};

function args(bundle: string, token = 'fresh', extra: string[] = []): string[] {
  return ['recover', '--bundle', bundle, '--module', sb.module, '--token', token, '--pin-env', 'KR_PIN', '--passphrase-env', 'KR_PASS', ...extra];
}

/** Runs the in-process CLI with the shares on standard input, or in a --shares file. */
async function recoverWith(input: 'stdin' | 'file', shares: string[], o: { pin?: string; passphrase?: string; bundle?: string; token?: string } = {}) {
  const text = shares.join('\n') + '\n';
  const env = { KR_PIN: o.pin ?? PIN, KR_PASS: o.passphrase ?? PASSPHRASE };
  if (input === 'stdin') return cli(args(o.bundle ?? a.bundle, o.token), { stdin: text, env });
  const f = path.join(work, `shares-${Math.random().toString(36).slice(2)}.txt`);
  writeFileSync(f, text);
  return cli(args(o.bundle ?? a.bundle, o.token, ['--shares', f]), { env });
}

function expectOneLineError(r: { status: number; stderr: string }, pattern: RegExp): void {
  expect(r.status).toBe(1);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^keyrite: error: /);
  expect(lines[0]).toMatch(pattern);
}

function expectTokenUnchanged(): void {
  expect(tokenObjects(sb, 'fresh', PIN)).toEqual(before);
  expect(existsSync(path.join(a.bundle, 'recoveries'))).toBe(false);
}

beforeAll(async () => {
  sb = createSoftHsmSandbox();
  process.env.SOFTHSM2_CONF = sb.confPath;
  work = mkdtempSync(path.join(os.tmpdir(), 'keyrite-recover-refusals-'));
  sb.initToken('ceremony', PIN);
  a = await runCeremony(sb, work, { id: 'refusals-a', algorithm: 'ec-p256', tokenLabel: 'ceremony', pin: PIN, passphrase: PASSPHRASE });
  b = await runCeremony(sb, work, { id: 'refusals-b', algorithm: 'ec-p256', tokenLabel: 'ceremony', pin: PIN });
  sb.initToken('fresh', PIN);
  sb.initToken('forced', PIN);
  sb.initToken('api', PIN);
  sb.initToken('mismatch', PIN);
  sb.initToken('tty', PIN);
  before = tokenObjects(sb, 'fresh', PIN);
});

afterAll(() => {
  sb?.dispose();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe.each(['stdin', 'file'] as const)('bad shares via %s', (input) => {
  it('an unknown word: names the share and the word position', async () => {
    const r = await recoverWith(input, [a.shares[0], withWord(a.shares[1], 6, 'zzzzzz')]);
    expectOneLineError(r, /^keyrite: error: share 2: unknown word at position 7 \(not in the SLIP-39 word list\)$/);
    expectTokenUnchanged();
  });

  it('two swapped words: a checksum failure of that share', async () => {
    const r = await recoverWith(input, [swapped(a.shares[2], 10), a.shares[0]]);
    expectOneLineError(r, /^keyrite: error: share 1: checksum does not match \(a word is wrong or two are swapped\)$/);
    expectTokenUnchanged();
  });

  it("a share from another ceremony", async () => {
    const r = await recoverWith(input, [a.shares[0], b.shares[1]]);
    // Another set's identifier; in the 1-in-32768 case of equal identifiers, its unknown check value.
    expectOneLineError(r, /^keyrite: error: share 2: (belongs to a different share set \(identifier \d+, expected \d+\)|not one of the expected shares .*)$/);
    expectTokenUnchanged();
  });

  it('a duplicate', async () => {
    const r = await recoverWith(input, [a.shares[1], ` ${a.shares[1].toUpperCase()} `]);
    expectOneLineError(r, /^keyrite: error: share 2: duplicate of share 1$/);
    expectTokenUnchanged();
  });

  it('too few shares', async () => {
    const r = await recoverWith(input, ['# only one custodian came', a.shares[2], '']);
    expectOneLineError(r, /^keyrite: error: too few shares: only 1 share was given \(share 1 accepted\); still needed: group 1 needs 1 more share$/);
    expectTokenUnchanged();
  });

  it('a wrong passphrase: caught by the backup key KCV before the token is touched', async () => {
    const r = await recoverWith(input, [a.shares[0], a.shares[2]], { passphrase: 'not the passphrase' });
    expectOneLineError(r, /^keyrite: error: shares 1 and 2 combine to a backup key with KCV [0-9a-f]{6}, not the ceremony's [0-9a-f]{6}: wrong SLIP-39 passphrase; nothing was done on the token$/);
    expectTokenUnchanged();
  });
});

/** A copy of bundle b without the recoveries earlier tests added (each recovery is checked by verify on its own). */
function freshCopyOfB(name: string): string {
  const copy = path.join(work, name, path.basename(b.bundle));
  cpSync(b.bundle, copy, { recursive: true });
  rmSync(path.join(copy, 'recoveries'), { recursive: true, force: true });
  return copy;
}

describe('other refusals', () => {
  it('a bad share through the real process: exit 1, one line on stderr', () => {
    const r = cliProcess(sb, args(a.bundle), { stdin: `${a.shares[0]}\n${withWord(a.shares[2], 0, 'xylophone')}\n`, env: { KR_PIN: PIN, KR_PASS: PASSPHRASE } });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe("keyrite: error: share 2: unknown word at position 1 (not in the SLIP-39 word list)\n");
    expect(r.stdout).toMatch(/share 1: accepted — group 1, member 1 .*still needed: group 1 needs 1 more share/);
    expectTokenUnchanged();
  });

  it('a wrong PIN', async () => {
    const r = await recoverWith('stdin', [a.shares[0], a.shares[1]], { pin: '00000' });
    expectOneLineError(r, /^keyrite: error: wrong PIN for token 'fresh'/);
    expectTokenUnchanged();
  });

  it('a token that does not exist', async () => {
    const r = await recoverWith('stdin', [a.shares[0], a.shares[1]], { token: 'no-such-token' });
    expectOneLineError(r, /^keyrite: error: no token .*no-such-token/);
    expectTokenUnchanged();
  });

  it('no PIN source without a terminal is a usage error (exit 2), before anything is read', async () => {
    const r = await cli(['recover', '--bundle', a.bundle, '--module', sb.module, '--token', 'fresh'], { stdin: a.shares.join('\n') });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^keyrite: error: recover: no PIN for token 'fresh': give --pin-env VAR/);
  });

  it('a bundle that does not verify is refused; --force-unverified goes ahead and records it', async () => {
    const copy = path.join(work, 'tampered', path.basename(a.bundle));
    cpSync(a.bundle, copy, { recursive: true });
    writeFileSync(path.join(copy, 'report.html'), readFileSync(path.join(copy, 'report.html'), 'utf8') + '<!-- edited -->');
    const r = await recoverWith('stdin', [a.shares[0], a.shares[1]], { bundle: copy, token: 'forced' });
    expectOneLineError(r, /^keyrite: error: bundle .* does not verify \(invalid: subjects\.digests: report\.html does not match its subject digest\); recovery refuses it unless --force-unverified/);
    expect(tokenObjects(sb, 'forced', PIN)).toEqual([]);

    const forced = await cli(args(copy, 'forced', ['--force-unverified']), { stdin: `${a.shares[0]}\n${a.shares[1]}\n`, env: { KR_PIN: PIN, KR_PASS: PASSPHRASE } });
    expect(forced.stderr).toBe('');
    expect(forced.status).toBe(0);
    expect(forced.stdout).toMatch(/Bundle: +DOES NOT VERIFY .*--force-unverified, which is recorded/);
    const rec = readdirSync(path.join(copy, 'recoveries'))[0];
    const first = JSON.parse(readFileSync(path.join(copy, 'recoveries', rec, 'transcript.jsonl'), 'utf8').split('\n')[0]);
    expect(first.data.bundleVerification).toMatchObject({ valid: false, forced: true });
    expect(first.data.bundleVerification.firstFailure).toMatch(/report\.html/);
  });

  it('after all that, the right shares and passphrase restore the key on the untouched token', () => {
    expectTokenUnchanged();
    const r = cliProcess(sb, args(a.bundle), { stdin: `${a.shares[2]}\n${a.shares[1]}\n`, env: { KR_PIN: PIN, KR_PASS: PASSPHRASE } });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Backup key: +KCV [0-9a-f]{6} matches the ceremony's/);
    // The root's two objects; the recovery signer signed once and was destroyed.
    expect(tokenObjects(sb, 'fresh', PIN)).toHaveLength(2);
    expect(readdirSync(path.join(a.bundle, 'recoveries'))).toHaveLength(1);
  });

  it('the Recovery API (desktop app): share by share, and a wrong PIN does not mean entering the shares again', () => {
    const rec = Recovery.open({ bundle: b.bundle, module: sb.module, tokenLabel: 'api', frontEnd: 'desktop' });
    try {
      expect(rec.info).toMatchObject({ ceremonyId: 'refusals-b', targetLabel: b.label, groupThreshold: 1, passphrase: false, groups: [{ group: 1, threshold: 2, count: 3 }] });
      const p1 = rec.addShare(b.shares[1], 1);
      expect(p1).toMatchObject({ accepted: true, position: 1, group: 1, member: 2, custodian: 'c2', used: true, complete: false, needs: 'group 1 needs 1 more share', groups: [{ group: 1, have: 1, threshold: 2 }] });
      expect(() => rec.addShare(b.shares[1], 2)).toThrow(/^share 2: duplicate of share 1$/);
      expect(rec.addShare(b.shares[0], 2)).toMatchObject({ member: 1, complete: true, needs: '' });
      expect(() => rec.restore('99999')).toThrow(/wrong PIN for token 'api'/);
      const out = rec.restore(PIN);
      expect(out).toMatchObject({ label: b.label, algorithm: 'ec-p256', token: { label: 'api' }, sealed: true });
      expect(out.signers.map((x) => x.role)).toEqual(['ceremony', 'root']);
      expect(existsSync(path.join(out.recoveryDir, 'transcript.dsse.json'))).toBe(true);
    } finally {
      rec.close();
    }
  });

  it('a key that does not prove to be the root is taken off the token again, and the record says so', async () => {
    // A forged bundle (forced past verification) whose key.generated names another public key.
    const copy = path.join(work, 'forged', path.basename(b.bundle));
    cpSync(b.bundle, copy, { recursive: true });
    rmSync(path.join(copy, 'recoveries'), { recursive: true, force: true });
    const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ type: 'spki', format: 'der' });
    const file = path.join(copy, 'transcript.jsonl');
    const lines = readFileSync(file, 'utf8').split('\n').map((l) => {
      if (!l.includes('"type":"key.generated"')) return l;
      const ev = JSON.parse(l);
      ev.data.publicKey = { spki: other.toString('base64'), sha256: createHash('sha256').update(other).digest('hex') };
      return canonicalJson(ev);
    });
    writeFileSync(file, lines.join('\n'));
    const r = await cli(args(copy, 'mismatch', ['--force-unverified']), { stdin: `${b.shares[0]}\n${b.shares[2]}\n`, env: { KR_PIN: PIN } });
    expectOneLineError(r, /^keyrite: error: the recovered key is not the ceremony's root: signature: .*does not verify with the root public key$/);
    expect(tokenObjects(sb, 'mismatch', PIN)).toEqual([]);
    const rec = readdirSync(path.join(copy, 'recoveries'))[0];
    const evs = readFileSync(path.join(copy, 'recoveries', rec, 'transcript.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const last = evs.at(-1);
    expect(last.type).toBe('recovery.aborted');
    expect(last.data.step).toBe('verification');
    expect(last.data.removed).toHaveLength(2);
    expect(evs.some((e) => e.type === 'key.recovered')).toBe(false);
  });

  it('on a terminal, a wrong PIN ends the run before any share is asked for', async () => {
    const { io, err } = captureIO();
    const questions: string[] = [];
    io.stdinIsTTY = true;
    io.promptSecret = async (q) => {
      questions.push(q);
      return questions.length === 1 ? 'not-the-pin' : b.shares[0];
    };
    const status = await main(['recover', '--bundle', freshCopyOfB('tty-pin'), '--module', sb.module, '--token', 'tty'], io);
    expect(status).toBe(1);
    expect(err.join('')).toMatch(/keyrite: error: .*PIN/);
    expect(questions).toEqual(["PIN for token 'tty': "]);
  });

  it('on a terminal: the PIN first, then shares word by word; a refused share is asked for again and accepted shares stay', async () => {
    const { io, out, err } = captureIO();
    // Share 1; a share of another ceremony (refused); share 2 pasted with an unknown 4th word, which alone is asked again.
    const answers = [PIN, b.shares[2], a.shares[0], withWord(b.shares[0], 3, 'qqqq'), words(b.shares[0])[3]];
    const questions: string[] = [];
    io.stdinIsTTY = true;
    io.promptSecret = async (q) => {
      questions.push(q);
      return answers.shift()!;
    };
    const status = await main(['recover', '--bundle', freshCopyOfB('tty-shares'), '--module', sb.module, '--token', 'tty'], io);
    expect(err.join('')).toContain('keyrite: share 2: belongs to a different share set');
    expect(err.join('')).toContain('word 4 is not in the SLIP-39 word list');
    expect(err.join('')).not.toContain('qqqq');
    expect(status).toBe(0);
    expect(questions).toEqual(["PIN for token 'tty': ", '  word 1 of 33: ', '  word 1 of 33: ', '  word 1 of 33: ', '  word 4 of 33, again: ']);
    expect(err.join('')).toContain('Share 2 (group 1 needs 1 more share): type the 33 words of your share');
    expect(out.join('')).toMatch(/Token: +logged in/);
    expect(out.join('')).toMatch(/Restored: +'refusals-b-root'/);
  });
});
