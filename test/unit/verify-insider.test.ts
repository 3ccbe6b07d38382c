/**
 * An insider's attacks on a finished bundle: someone who holds the bundle, the token and its PIN
 * (so the root key still signs, but the one-time ceremony signer is gone) changes a record
 * afterwards. Each attack is either INVALID, or shows up where it must (a warning, a failed policy
 * rule, a failed --expect-signer / --expect-statement). What no verifier can see without a pin
 * (a full rewrite re-signed by the root and a new ceremony signer) is shown failing every pin.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../electron/core/transcript/chain.ts';
import { ENVELOPE_FILE, keyidOf, softwareSigner, spkiToPem, writeSignerPublicKey, type DsseEnvelope } from '../../electron/core/transcript/dsse.ts';
import type { TranscriptEvent } from '../../electron/core/transcript/events.ts';
import { DESTRUCTION_PREDICATE_TYPE } from '../../electron/core/lifecycle/verify-lifecycle.ts';
import { verifyBundle } from '../../electron/core/verify/index.ts';
import { addRecovery, makeSoftwareBundle, resignBundle, rewriteTranscript, type SoftwareBundle } from '../helpers/bundle-fixture.ts';
import { cosign, newCosigner, statementDigest } from '../helpers/cosign-fixture.ts';

const tmp = mkdtempSync(path.join(tmpdir(), 'keyrite-verify-insider-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let template: SoftwareBundle;
let other: SoftwareBundle;
let copies = 0;
beforeAll(() => {
  template = makeSoftwareBundle(path.join(tmp, 'template'), { ceremonyId: 'insider-2026', rootAlgorithm: 'ec-p256' });
  other = makeSoftwareBundle(path.join(tmp, 'other'), { ceremonyId: 'other-2026', rootAlgorithm: 'ec-p256' });
});
function fresh(): SoftwareBundle {
  const dir = path.join(tmp, `copy-${copies++}`);
  cpSync(template.dir, dir, { recursive: true });
  return { ...template, dir, signers: [...template.signers] };
}

const failed = (r: { checks: { name: string; ok: boolean }[] }) => r.checks.filter((c) => !c.ok).map((c) => c.name);
const check = (r: { checks: { name: string; status: string; detail: string }[] }, name: string) => r.checks.find((c) => c.name === name)!;
const planOf = (dir: string) => JSON.parse(readFileSync(path.join(dir, 'plan.json'), 'utf8'));

/**
 * The insider's rewrite: edit plan.json and the events, re-chain, record a NEW ceremony signer (the
 * real one was destroyed) and re-sign with it and the root, which is still on the token.
 */
function insiderResign(
  b: SoftwareBundle,
  edit: { plan?: (p: Record<string, any>) => void; events?: (evs: TranscriptEvent[]) => TranscriptEvent[]; predicateType?: string; withRoot?: boolean; extraSigner?: ReturnType<typeof softwareSigner> },
): void {
  const planFile = path.join(b.dir, 'plan.json');
  if (edit.plan) {
    const plan = planOf(b.dir);
    edit.plan(plan);
    writeFileSync(planFile, JSON.stringify(plan, null, 2) + '\n');
  }
  const planSha = sha256Hex(readFileSync(planFile));
  const signer = softwareSigner('ceremony', generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey);
  rewriteTranscript(
    b.dir,
    (evs) => {
      const out = evs.map((e) => {
        if (e.type === 'ceremony.started') return { ...e, data: { ...e.data, planSha256: planSha } };
        if (e.type === 'signer.generated') return { ...e, data: { ...e.data, keyid: keyidOf(signer.spki), spki: signer.spki.toString('base64') } };
        return e;
      });
      return edit.events ? edit.events(out) : out;
    },
    { fixCompletion: true },
  );
  unlinkSync(path.join(b.dir, 'keys', `${b.ceremonyKeyid}.pub.pem`));
  writeSignerPublicKey(b.dir, signer.spki);
  rmSync(path.join(b.dir, 'cosignatures'), { recursive: true, force: true });
  b.signers = edit.withRoot === false ? [signer] : [signer, b.rootSigner!];
  if (edit.withRoot === false) unlinkSync(path.join(b.dir, 'keys', `${keyidOf(b.rootSigner!.spki)}.pub.pem`));
  if (edit.extraSigner) {
    b.signers.push(edit.extraSigner);
    writeSignerPublicKey(b.dir, edit.extraSigner.spki);
  }
  resignBundle(b, undefined, edit.predicateType);
}

describe('changes to signed files, without re-signing', () => {
  it('swapping keys/root.pub.pem for another key is INVALID', () => {
    const b = fresh();
    const spki = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' });
    writeFileSync(path.join(b.dir, 'keys/root.pub.pem'), spkiToPem(spki));
    const r = verifyBundle(b.dir);
    expect(r.verdict).toBe('INVALID');
    expect(failed(r)).toContain('subjects.digests');
    expect(failed(r)).toContain('root.key');
  });

  it('dropping ceremony.completed and re-chaining is INVALID (and never reads as complete)', () => {
    const b = fresh();
    rewriteTranscript(b.dir, (evs) => evs.filter((e) => e.type !== 'ceremony.completed'));
    const r = verifyBundle(b.dir);
    expect(r.valid).toBe(false);
    expect(failed(r)).toEqual(expect.arrayContaining(['subjects.digests', 'statement.chain', 'ceremony.completed']));
  });

  it('deleting an event (a share.confirmed; a printer.checked alike) and re-chaining is INVALID', () => {
    const b = fresh();
    rewriteTranscript(b.dir, (evs) => evs.filter((e) => !(e.type === 'share.confirmed' && e.data.member === 3)), { fixCompletion: true });
    const r = verifyBundle(b.dir);
    expect(r.verdict).toBe('INVALID');
    expect(failed(r)).toEqual(expect.arrayContaining(['subjects.digests', 'statement.chain', 'shares.confirmed']));
  });

  it('marking the rehearsal as production (ceremony.started.rehearsal) is INVALID', () => {
    const b = fresh();
    rewriteTranscript(b.dir, (evs) => evs.map((e) => (e.type === 'ceremony.started' ? { ...e, data: { ...e.data, rehearsal: false } } : e)), { fixCompletion: true });
    const r = verifyBundle(b.dir);
    expect(r.verdict).toBe('INVALID');
    expect(failed(r)).toContain('subjects.digests');
  });

  for (const kind of ['destroy', 'reshare', 'rotate', 'bogus']) {
    it(`flipping ceremony.started.kind from generate to ${kind} is INVALID (the kind's own checks run over the changed transcript)`, () => {
      const b = fresh();
      rewriteTranscript(b.dir, (evs) => evs.map((e) => (e.type === 'ceremony.started' ? { ...e, data: { ...e.data, kind } } : e)), { fixCompletion: true });
      const r = verifyBundle(b.dir);
      expect(r.verdict).toBe('INVALID');
      expect(failed(r)).toEqual(expect.arrayContaining(['subjects.digests', 'statement.chain', 'ceremony.kind']));
    });
  }

  it("editing plan.json's participants[].keyid to a forged co-signer's key is INVALID", () => {
    const b = fresh();
    const forged = newCosigner('wes', 'witness');
    const plan = planOf(b.dir);
    plan.participants.find((p: { id: string }) => p.id === 'wes').keyid = forged.keyid;
    writeFileSync(path.join(b.dir, 'plan.json'), JSON.stringify(plan, null, 2) + '\n');
    cosign(b.dir, forged);
    const r = verifyBundle(b.dir);
    expect(r.verdict).toBe('INVALID');
    expect(failed(r)).toEqual(expect.arrayContaining(['subjects.digests', 'plan.sha256']));
  });
});

describe('changes to what the statement does not sign (the envelope, cosignatures/, recoveries/)', () => {
  it("the envelope's layout is not signed: its final newline dropped or a space turned into a tab keeps the verdict (fuzz counterexample [998,2,944774,1]); any change to its JSON value does not", () => {
    const b = fresh();
    const file = path.join(b.dir, ENVELOPE_FILE);
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.replace(/\n$/, ''));
    expect(verifyBundle(b.dir).verdict).toBe('VALID (REHEARSAL)');
    writeFileSync(file, text.replace('{\n  ', '{\n\t'));
    expect(verifyBundle(b.dir).verdict).toBe('VALID (REHEARSAL)');
    writeFileSync(file, text.replace('"payloadType": "application/vnd.in-toto+json"', '"payloadType": "application/vnd.in-toto+jsoN"'));
    expect(verifyBundle(b.dir).verdict).toBe('INVALID');
  });

  it('a cosignatures/ record for a key that did not sign is INVALID', () => {
    const b = fresh();
    const c = newCosigner('wes', 'witness');
    mkdirSync(path.join(b.dir, 'cosignatures'));
    writeFileSync(
      path.join(b.dir, 'cosignatures', `${c.keyid}.json`),
      JSON.stringify({ participant: 'wes', role: 'witness', spki: c.spki.toString('base64'), signedAt: '2026-11-22T15:00:00.000Z', token: { manufacturer: 'x', model: 'y', serialNumber: 'z' } }),
    );
    const r = verifyBundle(b.dir);
    expect(r.verdict).toBe('INVALID');
    expect(check(r, 'cosignatures').detail).toMatch(/has no co-signature in the envelope$/);
  });

  it("a co-signature replayed from another bundle (same witness key, the other bundle's signature) is INVALID", () => {
    const b = fresh();
    const wes = newCosigner('wes', 'witness');
    const o = path.join(tmp, `other-${copies++}`);
    cpSync(other.dir, o, { recursive: true });
    cosign(o, wes);
    const theirs = (JSON.parse(readFileSync(path.join(o, ENVELOPE_FILE), 'utf8')) as DsseEnvelope).signatures.find((s) => s.keyid === wes.keyid)!;
    const env = JSON.parse(readFileSync(path.join(b.dir, ENVELOPE_FILE), 'utf8')) as DsseEnvelope;
    env.signatures.push(theirs);
    writeFileSync(path.join(b.dir, ENVELOPE_FILE), JSON.stringify(env, null, 2) + '\n');
    cpSync(path.join(o, 'cosignatures'), path.join(b.dir, 'cosignatures'), { recursive: true });
    const r = verifyBundle(b.dir);
    expect(r.verdict).toBe('INVALID');
    expect(check(r, 'cosignatures').detail).toMatch(/^co-signature by wes .* does not verify$/);
  });

  it("a co-signature by the insider's own key, claiming a witness the plan registers no key for, is VALID but warned: it proves nothing, and it does not hide that nobody registered co-signed", () => {
    const b = fresh();
    const fake = newCosigner('wes', 'witness');
    cosign(b.dir, fake);
    const r = verifyBundle(b.dir);
    expect(r.valid).toBe(true);
    expect(check(r, 'cosignatures').status).toBe('pass');
    expect(r.warnings.find((w) => w.startsWith('co-signatures:'))).toMatch(/^co-signatures: witness wes [0-9a-f]{12}… co-signed with a key neither plan\.json nor a policy registers/);
    // A policy that names the witnesses' keys does not count it.
    const p = verifyBundle(b.dir, { policy: { version: 1, cosigners: { keyids: [newCosigner('wes', 'witness').keyid], min: 1 } } });
    expect(failed(p)).toEqual(['policy.cosigners']);
    // Registered in the plan (as a real ceremony would have it), the same co-signature is not warned about.
    expect(verifyBundle(b.dir, { policy: { version: 1, cosigners: { keyids: [fake.keyid], min: 1 } } }).warnings.some((w) => w.startsWith('co-signatures:'))).toBe(false);
  });

  it('stripping the co-signatures (envelope entries and records) is seen: the warning returns, a co-signer quorum fails', () => {
    const b = fresh();
    const wes = newCosigner('wes', 'witness');
    const ada = newCosigner('ada', 'administrator');
    cosign(b.dir, wes);
    cosign(b.dir, ada);
    const policy = { version: 1 as const, cosigners: { keyids: [wes.keyid, ada.keyid], min: 2 } };
    expect(verifyBundle(b.dir, { policy }).valid).toBe(true);
    const env = JSON.parse(readFileSync(path.join(b.dir, ENVELOPE_FILE), 'utf8')) as DsseEnvelope;
    env.signatures = env.signatures.slice(0, 2);
    writeFileSync(path.join(b.dir, ENVELOPE_FILE), JSON.stringify(env, null, 2) + '\n');
    rmSync(path.join(b.dir, 'cosignatures'), { recursive: true });
    const r = verifyBundle(b.dir, { policy });
    expect(failed(r)).toEqual(['policy.cosigners']);
    expect(verifyBundle(b.dir).warnings.some((w) => w.startsWith('co-signatures: nobody'))).toBe(true);
  });

  it('a fake recoveries/<time>/ folder: signed only by a new key it is UNAUTHENTICATED (warned, fails "authenticated"); with a forged link it is INVALID', () => {
    const b = fresh();
    addRecovery(b, { rootSigns: false, tokenSerial: 'fake' });
    const r = verifyBundle(b.dir);
    expect(r.recoveries[0].verdict).toBe('UNAUTHENTICATED');
    expect(r.warnings.some((w) => w.startsWith('recoveries:'))).toBe(true);
    expect(failed(verifyBundle(b.dir, { policy: { version: 1, recoveries: 'authenticated' } }))).toEqual(['policy.recoveries']);
    const c = fresh();
    addRecovery(c, { ceremonyChainHead: 'ab'.repeat(32) });
    expect(verifyBundle(c.dir).verdict).toBe('INVALID');
  });
});

describe('a full rewrite, re-signed by the root (still on the token) and a new ceremony signer', () => {
  it('rehearsal marked production, re-signed: every pin the auditor holds fails it', () => {
    const b = fresh();
    const digest = statementDigest(b.dir);
    insiderResign(b, { events: (evs) => evs.map((e) => (e.type === 'ceremony.started' ? { ...e, data: { ...e.data, rehearsal: false } } : e)) });
    // Nothing inside the bundle can tell (docs/transcript.md): the pins can.
    expect(verifyBundle(b.dir).verdict).toBe('VALID');
    expect(failed(verifyBundle(b.dir, { expectSigners: [template.ceremonyKeyid] }))).toEqual(['signers.expected']);
    expect(failed(verifyBundle(b.dir, { expectStatement: digest }))).toEqual(['statement.expected']);
    const wes = newCosigner('wes', 'witness');
    expect(failed(verifyBundle(b.dir, { policy: { version: 1, cosigners: { keyids: [wes.keyid], min: 1 } } }))).toEqual(['policy.cosigners']);
  });

  it('kind flipped to destroy or reshare and re-signed (plan.json unchanged) is INVALID: the kind must be the plan\'s', () => {
    for (const [kind, predicateType] of [['destroy', DESTRUCTION_PREDICATE_TYPE], ['reshare', undefined]] as const) {
      const b = fresh();
      insiderResign(b, { predicateType, events: (evs) => evs.map((e) => (e.type === 'ceremony.started' ? { ...e, data: { ...e.data, kind } } : e)) });
      const r = verifyBundle(b.dir);
      expect(r.verdict, kind).toBe('INVALID');
      expect(failed(r), kind).toContain('ceremony.kind');
    }
  });

  it('a generate bundle recast as a re-share (plan and events too) keeping its exports, signed WITHOUT the root, is INVALID: a re-share carries no exports', () => {
    const b = fresh();
    recastAsReshare(b, false);
    const r = verifyBundle(b.dir);
    expect(r.verdict).toBe('INVALID');
    expect(failed(r)).toEqual(['ceremony.kind', 'reshare.root-signed']);
    expect(check(r, 'ceremony.kind').detail).toMatch(/^a reshare ceremony makes no export, but export.created appears/);
    // Before ceremony.kind, this forgery (no token needed) passed even a policy pinning the root.
    expect(failed(verifyBundle(b.dir, { policy: { version: 1, root: { publicKeySha256: template.root.publicKeySha256! } } }))).toEqual(['ceremony.kind', 'reshare.root-signed']);
  });

  it('the same re-share without exports (anyone holding the previous bundle can make it), signed only by a fresh software key, is INVALID for an EC root: the root did not sign it', () => {
    const b = fresh();
    recastAsReshare(b, true);
    const r = verifyBundle(b.dir);
    expect(r.verdict).toBe('INVALID');
    expect(failed(r)).toEqual(['reshare.root-signed']);
    expect(check(r, 'reshare.root-signed').detail).toMatch(/^the root [0-9a-f]{12}.* did not sign the statement \(role root\)$/);
  });

  it('the forger signing as "root" with a fresh key of their own is INVALID (its SPKI is not the root\'s); with the real root it passes', () => {
    const b = fresh();
    const fake = softwareSigner('root', generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
    recastAsReshare(b, true, fake);
    expect(failed(verifyBundle(b.dir))).toContain('reshare.root-signed');
    const real = fresh();
    recastAsReshare(real, true, template.rootSigner!);
    const ok = verifyBundle(real.dir);
    expect(failed(ok)).toEqual([]);
    expect(check(ok, 'reshare.root-signed').status).toBe('pass');
    expect(ok.warnings.some((w) => w.startsWith('signers:'))).toBe(false);
  });
});

/** A generate bundle rewritten as a re-share of it (plan, events), signed by a new ceremony signer only: what anyone can make. */
function recastAsReshare(b: SoftwareBundle, dropExports: boolean, rootSigner?: ReturnType<typeof softwareSigner>): void {
  const custodians = ['c1', 'c2', 'c3'];
  if (dropExports) rmSync(path.join(b.dir, 'exports'), { recursive: true });
  insiderResign(b, {
    extraSigner: rootSigner,
    withRoot: false,
    plan: (p) => {
      p.ceremony = 'reshare';
      if (dropExports) p.exports = [];
      p.previous = { bundle: '../generate', statementSha256: 'ab'.repeat(32) };
    },
    events: (evs) => {
      const out: TranscriptEvent[] = [];
      for (const e of evs) {
        if (dropExports && e.type === 'export.created') continue;
        if (e.type === 'ceremony.started') out.push({ ...e, data: { ...e.data, kind: 'reshare', keyVersion: 1, previous: { ceremonyId: 'generate', statementSha256: 'ab'.repeat(32) } } });
        else if (e.type === 'key.generated') continue;
        else if (e.type === 'backup.wrapped') {
          out.push({ ...e, type: 'reshare.old-shares-verified', data: { identifier: 1 } });
          out.push({ ...e, type: 'backup.retired', data: { ceremonyId: 'old', custodians, warning: 'x' } });
          out.push(e);
        } else if (e.type === 'ceremony.completed') {
          for (const c of custodians) out.push({ ...e, type: 'sheet.destroyed', actor: c, data: { custodian: c } });
          out.push(e);
        } else out.push(e);
      }
      return out;
    },
  });
}

describe('co-signature records relabelled (cosignatures/ is outside the statement)', () => {
  it("a real witness's co-signature relabelled as another participant's (who has no registered key) is INVALID when the plan registers that key to the witness", () => {
    const b = fresh();
    const wes = newCosigner('wes', 'witness');
    // The ceremony as it ran: the plan registered wes's key (ada's not), wes co-signed.
    const plan = planOf(b.dir);
    plan.participants.find((p: { id: string }) => p.id === 'wes').keyid = wes.keyid;
    insiderResignAsCeremony(b, plan);
    cosign(b.dir, wes);
    expect(verifyBundle(b.dir).valid).toBe(true);
    // Afterwards: the record says ada (administrator) signed with that key.
    const rec = path.join(b.dir, 'cosignatures', `${wes.keyid}.json`);
    writeFileSync(rec, JSON.stringify({ ...JSON.parse(readFileSync(rec, 'utf8')), participant: 'ada', role: 'administrator' }));
    const r = verifyBundle(b.dir);
    expect(r.verdict).toBe('INVALID');
    expect(check(r, 'cosignatures').detail).toMatch(/plan\.json registers this key to wes, not ada$/);
  });
});

/** plan.json replaced and everything re-signed by the bundle's own signers: the ceremony as if it had run with that plan. */
function insiderResignAsCeremony(b: SoftwareBundle, plan: Record<string, unknown>, events: (evs: TranscriptEvent[]) => TranscriptEvent[] = (e) => e): void {
  const bytes = Buffer.from(JSON.stringify(plan, null, 2) + '\n');
  writeFileSync(path.join(b.dir, 'plan.json'), bytes);
  rewriteTranscript(b.dir, (evs) => events(evs.map((e) => (e.type === 'ceremony.started' ? { ...e, data: { ...e.data, planSha256: sha256Hex(bytes) } } : e))), { fixCompletion: true });
  resignBundle(b);
}

describe('a production ceremony that printed its shares', () => {
  it('deleting its printer.checked event afterwards (re-chained, not re-signed) is INVALID', () => {
    const b = fresh();
    // The ceremony as it ran: production, the CUPS queue checked before the first sheet.
    insiderResignAsCeremony(b, planOf(b.dir), (evs) => {
      const at = evs.findIndex((e) => e.type === 'backup.split');
      const started = { ...evs[0], data: { ...evs[0].data, rehearsal: false } };
      const printer = { ...evs[at], type: 'printer.checked', actor: 'system', data: { queue: 'vault-printer', deviceUri: 'usb://Acme/Laser', checks: [{ name: 'device-local', ok: true, detail: 'usb' }] } };
      return [started, ...evs.slice(1, at), printer, ...evs.slice(at)];
    });
    expect(verifyBundle(b.dir).verdict).toBe('VALID');
    rewriteTranscript(b.dir, (evs) => evs.filter((e) => e.type !== 'printer.checked'), { fixCompletion: true });
    const r = verifyBundle(b.dir);
    expect(r.verdict).toBe('INVALID');
    expect(failed(r)).toEqual(['subjects.digests', 'statement.chain']);
  });
});

describe('co-signature records edited in place', () => {
  it("signedAt rewritten to something that is not a time is INVALID (its form is checked; signedAt and token are the co-signer's unsigned account)", () => {
    const b = fresh();
    cosign(b.dir, newCosigner('wes', 'witness'), { recordEdit: (r) => (r.signedAt = 'the day after') });
    const r = verifyBundle(b.dir);
    expect(r.verdict).toBe('INVALID');
    expect(check(r, 'cosignatures').detail).toMatch(/signedAt is not a UTC RFC 3339 time with milliseconds$/);
  });
});

describe('recoveries/ (outside the statement)', () => {
  it('a genuine recovery copied under another time is INVALID: one recovery, listed twice', () => {
    const b = fresh();
    const rec = addRecovery(b);
    expect(verifyBundle(b.dir).valid).toBe(true);
    cpSync(rec, path.join(b.dir, 'recoveries', '2027-04-01T10-00-00.000Z'), { recursive: true });
    const r = verifyBundle(b.dir);
    expect(r.verdict).toBe('INVALID');
    expect(check(r, 'recoveries').detail).toBe('recoveries/2027-04-01T10-00-00.000Z is a copy of recoveries/2027-03-01T10-00-00.000Z (the same signed recovery statement): one recovery, listed twice');
  });

  it("a fake recovery co-signed by the insider's own key claiming a witness stays UNAUTHENTICATED", () => {
    const b = fresh();
    const rec = addRecovery(b, { rootSigns: false });
    cosign(rec, newCosigner('wes', 'witness'));
    const r = verifyBundle(b.dir);
    expect(r.recoveries[0].verdict).toBe('UNAUTHENTICATED');
    expect(r.warnings.some((w) => w.startsWith('recoveries:'))).toBe(true);
  });
});
