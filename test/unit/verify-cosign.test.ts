/**
 * Co-signatures (docs/transcript.md) and the one-time signer as verify sees them: each extra signature in the
 * envelope must verify over the same PAE and have its cosignatures/<keyid>.json naming a plan witness
 * or administrator with that key; anything else is INVALID. Keys are node:crypto stand-ins for the
 * witnesses' tokens (co-signing only appends a signature).
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DsseEnvelope } from '../../electron/core/transcript/dsse.ts';
import { verifyBundle } from '../../electron/core/verify/index.ts';
import { makeSoftwareBundle, type SoftwareBundle } from '../helpers/bundle-fixture.ts';
import { cosign, newCosigner, rerun, type Cosigner } from '../helpers/cosign-fixture.ts';

const tmp = mkdtempSync(path.join(tmpdir(), 'keyrite-verify-cosign-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let template: SoftwareBundle;
let copies = 0;
beforeAll(() => {
  template = makeSoftwareBundle(path.join(tmp, 'template'));
});
function fresh(): SoftwareBundle {
  const dir = path.join(tmp, `copy-${copies++}`);
  cpSync(template.dir, dir, { recursive: true });
  return { ...template, dir };
}

const failed = (r: { checks: { name: string; ok: boolean }[] }) => r.checks.filter((c) => !c.ok).map((c) => c.name);
const check = (r: { checks: { name: string; status: string; detail: string }[] }, name: string) => r.checks.find((c) => c.name === name)!;

describe('co-signatures', () => {
  let wes: Cosigner;
  let ada: Cosigner;
  beforeAll(() => {
    wes = newCosigner('wes', 'witness', 'p256');
    ada = newCosigner('ada', 'administrator', 'ed25519');
  });

  it('two co-signers with their own keys: cosignatures passes, naming them; the no-co-signature warning is gone', () => {
    const b = fresh();
    expect(check(verifyBundle(b.dir), 'cosignatures').status).toBe('skip');
    expect(verifyBundle(b.dir).warnings.some((w) => w.startsWith('co-signatures:'))).toBe(true);
    cosign(b.dir, wes);
    cosign(b.dir, ada);
    const r = verifyBundle(b.dir);
    expect(failed(r)).toEqual([]);
    expect(r.valid).toBe(true);
    expect(check(r, 'cosignatures')).toMatchObject({ status: 'pass' });
    expect(check(r, 'cosignatures').detail).toMatch(/^2 co-signatures verify over the same PAE: witness wes [0-9a-f]{12}…, administrator ada [0-9a-f]{12}…$/);
    expect(check(r, 'signatures.verify').detail).toMatch(/\(2 co-signatures: see cosignatures\)$/);
    // No longer "nobody co-signed"; but neither key is registered (plan keyids or a policy), so that is warned.
    expect(r.warnings.filter((w) => w.startsWith('co-signatures:'))).toEqual([expect.stringMatching(/^co-signatures: witness wes .*, administrator ada .* co-signed with a key neither plan\.json nor a policy registers/)]);
    expect(verifyBundle(b.dir, { policy: { version: 1, cosigners: { keyids: [wes.keyid, ada.keyid], min: 2 } } }).warnings.some((w) => w.startsWith('co-signatures:'))).toBe(false);
    // An expected signer may be a co-signer.
    expect(verifyBundle(b.dir, { expectSigners: [wes.keyid] }).valid).toBe(true);
  });

  it('RSA and P-384 co-signing keys verify too', () => {
    const b = fresh();
    cosign(b.dir, newCosigner('wes', 'witness', 'rsa'));
    cosign(b.dir, newCosigner('ada', 'administrator', 'p384'));
    expect(failed(verifyBundle(b.dir))).toEqual([]);
  });

  it('changing one byte of the payload after co-signing is INVALID', () => {
    const b = fresh();
    cosign(b.dir, wes);
    const file = path.join(b.dir, 'transcript.dsse.json');
    const env = JSON.parse(readFileSync(file, 'utf8')) as DsseEnvelope;
    const payload = Buffer.from(env.payload, 'base64');
    const i = payload.indexOf('Fixture root key');
    payload[i] ^= 0x20; // "fixture root key": still JSON, still a statement
    env.payload = payload.toString('base64');
    writeFileSync(file, JSON.stringify(env));
    const r = verifyBundle(b.dir);
    expect(r.verdict).toBe('INVALID');
    expect(failed(r)).toContain('signatures.verify');
  });

  const broken: [string, (b: SoftwareBundle) => void, RegExp][] = [
    ['its record is missing', (b) => cosign(b.dir, wes, { record: false }), /^signature by [0-9a-f]{12}… is not a listed signer and cosignatures\/[0-9a-f]{64}\.json is missing$/],
    ['its signature is over something else', (b) => {
      cosign(b.dir, wes);
      const file = path.join(b.dir, 'transcript.dsse.json');
      const env = JSON.parse(readFileSync(file, 'utf8')) as DsseEnvelope;
      env.signatures[2].sig = env.signatures[0].sig;
      writeFileSync(file, JSON.stringify(env));
    }, /^co-signature by wes \([0-9a-f]{12}…\) does not verify$/],
    ['its record holds another key', (b) => cosign(b.dir, wes, { recordEdit: (r) => void (r.spki = ada.spki.toString('base64')) }), /: its spki's SHA-256 is [0-9a-f]{12}…, not the keyid/],
    ['the participant is not in the plan', (b) => cosign(b.dir, { ...wes, participant: 'mallory' }), /: mallory is not a participant in plan\.json$/],
    ['a custodian signs as a witness', (b) => cosign(b.dir, { ...wes, participant: 'c1' }), /: c1 is custodian in plan\.json, not witness$/],
    ['the record says custodian', (b) => cosign(b.dir, wes, { recordEdit: (r) => void (r.role = 'custodian') }), /: role is not witness or administrator$/],
    ['the record has no token', (b) => cosign(b.dir, wes, { recordEdit: (r) => void delete r.token }), /: token\.manufacturer is missing$/],
    ['a record has no signature', (b) => {
      cosign(b.dir, wes);
      const file = path.join(b.dir, 'transcript.dsse.json');
      const env = JSON.parse(readFileSync(file, 'utf8')) as DsseEnvelope;
      env.signatures.pop();
      writeFileSync(file, JSON.stringify(env));
    }, /^cosignatures\/[0-9a-f]{64}\.json has no co-signature in the envelope$/],
  ];
  for (const [what, damage, why] of broken) {
    it(`INVALID when ${what}`, () => {
      const b = fresh();
      damage(b);
      const r = verifyBundle(b.dir);
      expect(r.verdict).toBe('INVALID');
      expect(failed(r)).toEqual(['cosignatures']);
      expect(check(r, 'cosignatures').detail).toMatch(why);
    });
  }

  it('a key the plan pre-registered for the participant is required', () => {
    const b = fresh();
    rerun(b, { plan: (p) => void (p.participants.find((x: { id: string }) => x.id === 'wes').keyid = wes.keyid) });
    cosign(b.dir, wes);
    expect(failed(verifyBundle(b.dir))).toEqual([]);

    const c = fresh();
    rerun(c, { plan: (p) => void (p.participants.find((x: { id: string }) => x.id === 'wes').keyid = wes.keyid) });
    cosign(c.dir, newCosigner('wes', 'witness'));
    const r = verifyBundle(c.dir);
    expect(failed(r)).toEqual(['cosignatures']);
    expect(check(r, 'cosignatures').detail).toMatch(/plan\.json registers another key for wes/);
  });

  it('cosignatures/ is outside the statement, but a file elsewhere added after signing is still caught', () => {
    const b = fresh();
    cosign(b.dir, wes);
    expect(check(verifyBundle(b.dir), 'subjects.complete').status).toBe('pass');
    writeFileSync(path.join(b.dir, 'keys', 'extra.txt'), 'x');
    expect(failed(verifyBundle(b.dir))).toContain('subjects.complete');
    unlinkSync(path.join(b.dir, 'keys', 'extra.txt'));
  });
});

describe('signer.one-time', () => {
  it('passes when the predicate names the role-ceremony signer as one-time; no warning', () => {
    const b = fresh();
    rerun(b, { predicate: (p) => void (p.ceremonySigner = { keyid: b.ceremonyKeyid, oneTime: true }) });
    const r = verifyBundle(b.dir);
    expect(failed(r)).toEqual([]);
    expect(check(r, 'signer.one-time')).toMatchObject({ status: 'pass' });
    expect(r.warnings.some((w) => w.startsWith('one-time signer:'))).toBe(false);
  });

  it('an older bundle without it: SKIP and a warning, still valid', () => {
    const r = verifyBundle(fresh().dir);
    expect(r.valid).toBe(true);
    expect(check(r, 'signer.one-time')).toMatchObject({ status: 'skip' });
    expect(r.warnings.some((w) => w.startsWith('one-time signer:'))).toBe(true);
  });

  it('fails when it names another key or is not one-time', () => {
    const b = fresh();
    rerun(b, { predicate: (p) => void (p.ceremonySigner = { keyid: b.root.publicKeySha256, oneTime: true }) });
    expect(failed(verifyBundle(b.dir))).toEqual(['signer.one-time']);
    const c = fresh();
    rerun(c, { predicate: (p) => void (p.ceremonySigner = { keyid: c.ceremonyKeyid, oneTime: false }) });
    expect(check(verifyBundle(c.dir), 'signer.one-time').detail).toBe('predicate.ceremonySigner.oneTime is not true');
  });
});
