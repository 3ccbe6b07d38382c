/**
 * Recoveries bound to their ceremony (docs/policy.md): a recovery folder must name this bundle's ceremony
 * id, signed chain head and statement digest, show a threshold set of the ceremony's shares and the
 * backup key's KCV, and be signed by the recovered root or a registered key; else it is INVALID or
 * UNAUTHENTICATED. The forged-folder attack from issue 12 is scripted here and ends INVALID.
 */
import { generateKeyPairSync } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIO } from '../../electron/cli/command.ts';
import { main } from '../../electron/cli/keyrite.ts';
import { sha256Hex } from '../../electron/core/transcript/chain.ts';
import { RECOVERY_PREDICATE_TYPE, signBundle, softwareSigner, TRANSCRIPT_FILE, writeSignerPublicKey } from '../../electron/core/transcript/dsse.ts';
import { TranscriptWriter } from '../../electron/core/transcript/writer.ts';
import { verifyBundle } from '../../electron/core/verify/index.ts';
import { parsePolicy } from '../../electron/core/verify/policy-file.ts';
import { addRecovery, makeSoftwareBundle, rewriteTranscript, type SoftwareBundle } from '../helpers/bundle-fixture.ts';
import { cosign, newCosigner, rerun } from '../helpers/cosign-fixture.ts';

const tmp = mkdtempSync(path.join(tmpdir(), 'keyrite-verify-recoveries-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let template: SoftwareBundle;
let aes: SoftwareBundle;
let copies = 0;
beforeAll(() => {
  template = makeSoftwareBundle(path.join(tmp, 'template'));
  aes = makeSoftwareBundle(path.join(tmp, 'aes'), { rootAlgorithm: 'aes-256' });
});
function fresh(from = template): SoftwareBundle {
  const dir = path.join(tmp, `copy-${copies++}`);
  cpSync(from.dir, dir, { recursive: true });
  return { ...from, dir };
}
const failed = (r: { checks: { name: string; ok: boolean }[] }) => r.checks.filter((c) => !c.ok).map((c) => c.name);
const detail = (r: { checks: { name: string; detail: string }[] }, name: string) => r.checks.find((c) => c.name === name)!.detail;

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIO = {
    stdout: (t) => void (out += t), stderr: (t) => void (err += t), readStdin: async () => '', stdinIsTTY: false,
    promptSecret: async () => '', prompt: async () => '', env: {}, cwd: tmp,
  };
  return { code: await main(argv, io), out, err };
}

describe('a recovery bound to its ceremony', () => {
  it('a recovery signed by the recovered root: VALID, every recovery check passes', () => {
    const b = fresh();
    addRecovery(b);
    const r = verifyBundle(b.dir);
    expect(failed(r)).toEqual([]);
    expect(r.recoveries[0]).toMatchObject({ valid: true, authenticated: true, verdict: 'VALID' });
    expect(r.recoveries[0].checks.map((c) => c.name).filter((n) => n.startsWith('recovery.'))).toEqual([
      'recovery.ceremony', 'recovery.shares', 'recovery.root-key', 'recovery.completed', 'recovery.authenticated',
    ]);
    expect(detail(r.recoveries[0], 'recovery.authenticated')).toMatch(/^the recovered root [0-9a-f]{12}… signed the recovery$/);
  });

  const broken: [string, Parameters<typeof addRecovery>[1], string, RegExp][] = [
    ['another chain head', { ceremonyChainHead: 'ab'.repeat(32) }, 'recovery.ceremony', /^recovery\.started names chain head abababababab…, not the ceremony's [0-9a-f]{12}…$/],
    ['another statement digest', { ceremonyStatementSha256: 'cd'.repeat(32) }, 'recovery.ceremony', /^recovery\.started names statement cdcdcdcdcdcd…, not the ceremony's/],
    ['no share events', { shareEvents: false }, 'recovery.shares', /^no recovery\.share-accepted event$/],
  ];
  for (const [what, opts, check, why] of broken) {
    it(`INVALID with ${what}`, () => {
      const b = fresh();
      addRecovery(b, opts);
      const r = verifyBundle(b.dir);
      expect(r.verdict).toBe('INVALID');
      expect(failed(r)).toEqual(['recoveries']);
      expect(r.recoveries[0].verdict).toBe('INVALID');
      expect(failed(r.recoveries[0])).toContain(check);
      expect(detail(r.recoveries[0], check)).toMatch(why);
    });
  }

  it('INVALID when recovery.started lacks ceremonyStatementSha256 (an unbound recovery)', () => {
    const b = fresh();
    addRecovery(b, { ceremonyStatementSha256: null });
    const r = verifyBundle(b.dir);
    expect(r.recoveries[0].verdict).toBe('INVALID');
    expect(failed(r.recoveries[0])).toEqual(['recovery.ceremony']);
    expect(detail(r.recoveries[0], 'recovery.ceremony')).toMatch(/^recovery\.started names no ceremonyStatementSha256; the ceremony's is [0-9a-f]{12}…$/);
  });

  it('INVALID when the shares used are not a threshold set, or not the ceremony\'s', () => {
    const b = fresh();
    const dir = addRecovery(b);
    rewriteTranscript(dir, (evs) => evs.filter((e) => !(e.type === 'recovery.share-accepted' && e.data.member === 2)).map((e) => (e.type === 'recovery.kek-verified' ? { ...e, data: { ...e.data, shares: [{ group: 1, member: 1 }] } } : e)), { fixCompletion: true });
    const r = verifyBundle(b.dir);
    expect(failed(r.recoveries[0])).toContain('recovery.shares');
    expect(detail(r.recoveries[0], 'recovery.shares')).toMatch(/did not use a threshold set/);

    const c = fresh();
    const dir2 = addRecovery(c);
    rewriteTranscript(dir2, (evs) => evs.map((e) => (e.type === 'recovery.share-accepted' && e.data.member === 2 ? { ...e, data: { ...e.data, checkValue: '0123456789abcdef' } } : e)));
    expect(detail(verifyBundle(c.dir).recoveries[0], 'recovery.shares')).toMatch(/has another check value than the ceremony's share$/);
  });

  it('UNAUTHENTICATED without the root\'s signature: a warning; fails "recoveries": "authenticated"; a plan-registered co-signer authenticates it', () => {
    const b = fresh();
    const dir = addRecovery(b, { rootSigns: false });
    const r = verifyBundle(b.dir);
    expect(r.valid).toBe(true);
    expect(r.recoveries[0].verdict).toBe('UNAUTHENTICATED');
    expect(r.warnings.some((w) => w.startsWith('recoveries:'))).toBe(true);
    const strict = parsePolicy({ version: 1, recoveries: 'authenticated' }, 'test');
    const rs = verifyBundle(b.dir, { policy: strict });
    expect(rs.verdict).toBe('INVALID');
    expect(failed(rs)).toEqual(['policy.recoveries']);
    expect(rs.warnings.some((w) => w.startsWith('recoveries:'))).toBe(false);

    // A witness whose key the policy registers co-signs the recovery: authenticated.
    const wes = newCosigner('wes', 'witness');
    cosign(dir, wes);
    expect(verifyBundle(b.dir).recoveries[0].verdict).toBe('UNAUTHENTICATED');
    const withKey = parsePolicy({ version: 1, recoveries: 'authenticated', cosigners: { keyids: [wes.keyid], min: 0 + 1 } }, 'test');
    const ra = verifyBundle(b.dir, { policy: withKey });
    expect(ra.recoveries[0].verdict).toBe('VALID');
    expect(detail(ra.recoveries[0], 'recovery.authenticated')).toMatch(/registered in the policy/);
  });

  it('an AES root cannot sign: its recovery is UNAUTHENTICATED until a key registered in the plan co-signs it', () => {
    const b = fresh(aes);
    const ada = newCosigner('ada', 'administrator');
    rerun(b, { plan: (p) => void (p.participants.find((x: { id: string }) => x.id === 'ada').keyid = ada.keyid) });
    const dir = addRecovery(b);
    expect(verifyBundle(b.dir).recoveries[0].verdict).toBe('UNAUTHENTICATED');
    cosign(dir, ada);
    const r = verifyBundle(b.dir);
    expect(failed(r)).toEqual([]);
    expect(r.recoveries[0].verdict).toBe('VALID');
    expect(detail(r.recoveries[0], 'recovery.authenticated')).toMatch(/registered in the plan/);
  });

  it('a recovery that stopped early is INCOMPLETE and does not fail the bundle', () => {
    const b = fresh();
    addRecovery(b, { complete: false });
    const r = verifyBundle(b.dir);
    expect(r.valid).toBe(true);
    expect(r.recoveries[0].verdict).toBe('INCOMPLETE: stopped after recovery.share-accepted');
  });
});

describe('the forged recovery folder (issue 12)', () => {
  /**
   * What an attacker can make from public data alone: a recoveries/<time>/ with a fake token serial,
   * a made-up ceremony chain head, no share events, the root's public key copied from the bundle,
   * and a software P-384 signer of their own, all well-formed and signed.
   */
  function forge(b: SoftwareBundle): string {
    const dir = path.join(b.dir, 'recoveries', '2027-06-01T00-00-00.000Z');
    mkdirSync(path.join(dir, 'keys'), { recursive: true });
    const signer = softwareSigner('ceremony', generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey);
    let t = Date.parse('2027-06-01T00:00:00.000Z');
    const w = TranscriptWriter.create(path.join(dir, TRANSCRIPT_FILE), { now: () => new Date((t += 1000)) });
    w.append('recovery.started', 'ada', {
      ceremonyId: b.ceremonyId,
      ceremonyChainHead: sha256Hex('made up'),
      app: { name: 'keyrite', version: '0.1.0' },
      host: { platform: 'linux', arch: 'x64', networkInterfaces: [] },
    });
    w.append('key.recovered', 'system', {
      label: b.root.label, id: '02', algorithm: b.root.algorithm,
      token: { label: 'new-token', serialNumber: 'FAKE-0000' },
      attributes: { sensitive: true, extractable: false },
      publicKey: { spki: b.rootSpki!.toString('base64'), sha256: sha256Hex(b.rootSpki!) },
    });
    w.append('signer.generated', 'system', {
      role: 'ceremony', label: 'forged', id: '03', keyid: sha256Hex(signer.spki), spki: signer.spki.toString('base64'),
      attributes: { sensitive: true, extractable: false, sign: true },
    });
    w.append('recovery.completed', 'system', { chainHead: w.head, eventCount: w.count });
    const head = w.head;
    const count = w.count;
    w.close();
    writeSignerPublicKey(dir, signer.spki);
    signBundle({ bundleDir: dir, predicateType: RECOVERY_PREDICATE_TYPE, predicate: { ceremonyId: b.ceremonyId, chainHead: head, eventCount: count, root: { ...b.root } }, signers: [signer] });
    return dir;
  }

  it('ends INVALID, naming the broken link to the ceremony and the missing share events', async () => {
    const b = fresh();
    forge(b);
    const r = verifyBundle(b.dir);
    expect(r.verdict).toBe('INVALID');
    expect(r.recoveries[0].verdict).toBe('INVALID');
    expect(failed(r.recoveries[0])).toEqual(['recovery.ceremony', 'recovery.shares', 'recovery.authenticated']);
    const cli = await run('verify', path.basename(b.dir));
    expect(cli.code).toBe(1);
    expect(cli.out).toContain('Recovery recoveries/2027-06-01T00-00-00.000Z: INVALID\n');
    expect(cli.out).toMatch(/^ {2}FAIL recovery\.ceremony — recovery\.started names chain head /m);
    expect(cli.out).toContain('  FAIL recovery.shares — no recovery.share-accepted event\n');
    expect(cli.out.trimEnd().split('\n').at(-1)).toBe('INVALID');
  });
});
