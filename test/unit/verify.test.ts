import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson, sha256Hex } from '../../electron/core/transcript/chain.ts';
import { keyidOf, pae, softwareSigner, spkiToPem, writeSignerPublicKey, type DsseEnvelope } from '../../electron/core/transcript/dsse.ts';
import { verifyBundle, type VerifyResult } from '../../electron/core/verify/index.ts';
import {
  addRecovery,
  makeSoftwareBundle,
  resignBundle,
  rewriteTranscript,
  type SoftwareBundle,
} from '../helpers/bundle-fixture.ts';

const tmp = mkdtempSync(path.join(tmpdir(), 'keyrite-verify-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let template: SoftwareBundle;
let copies = 0;
beforeAll(() => {
  template = makeSoftwareBundle(path.join(tmp, 'template'), { notes: 2 });
});

/** A fresh copy of the valid template bundle, with the same signers. */
function fresh(): SoftwareBundle {
  const dir = path.join(tmp, `copy-${copies++}`);
  cpSync(template.dir, dir, { recursive: true });
  return { ...template, dir };
}

const failed = (r: { checks: { name: string; ok: boolean }[] }) => r.checks.filter((c) => !c.ok).map((c) => c.name);
const file = (b: SoftwareBundle, rel: string) => path.join(b.dir, ...rel.split('/'));
const lines = (b: SoftwareBundle) => readFileSync(file(b, 'transcript.jsonl'), 'utf8').split('\n').slice(0, -1);
const envelope = (b: SoftwareBundle): DsseEnvelope => JSON.parse(readFileSync(file(b, 'transcript.dsse.json'), 'utf8'));

function expectOnly(r: VerifyResult, name: string): void {
  expect(r.valid).toBe(false);
  expect(failed(r)).toEqual([name]);
}

describe('verifyBundle on valid bundles', () => {
  it('accepts the software fixture and passes every check', () => {
    const r = verifyBundle(template.dir);
    expect(failed(r)).toEqual([]);
    // The fixture records a rehearsal.
    expect(r).toMatchObject({ valid: true, complete: true, lastStep: 'ceremony.completed', verdict: 'VALID (REHEARSAL)', recoveries: [] });
    expect(r.checks.map((c) => c.name)).toEqual([
      'transcript.canonical', 'transcript.chain', 'transcript.seq', 'transcript.time',
      'envelope.format', 'statement.format', 'signatures.verify', 'signers.keyids', 'signers.ceremony', 'signer.one-time',
      'cosignatures', 'signers.expected', 'statement.expected',
      'subjects.digests', 'subjects.complete', 'statement.chain',
      'ceremony.id', 'ceremony.kind', 'events.required', 'plan.sha256', 'root.key', 'backup.wrapped', 'shares.confirmed',
      'backup.recovery-tested', 'exports.files', 'ceremony.completed', 'recoveries',
    ]);
    for (const c of r.checks) expect(c.detail).not.toMatch(/\n/);
    // Nothing asked of them, nothing to check: skipped, never passed.
    expect(r.checks.filter((c) => c.status === 'skip').map((c) => c.name)).toEqual(['signer.one-time', 'cosignatures', 'signers.expected', 'statement.expected']);
    expect(r.checks.every((c) => c.ok === (c.status !== 'fail'))).toBe(true);
  });

  for (const alg of ['ec-p256', 'ed25519', 'rsa-3072', 'aes-256'] as const) {
    it(`accepts a bundle whose root is ${alg}`, () => {
      const b = makeSoftwareBundle(path.join(tmp, `alg-${alg}`), { rootAlgorithm: alg });
      const r = verifyBundle(b.dir, { expectSigners: b.signers.map((s) => keyidOf(s.spki)) });
      expect(failed(r)).toEqual([]);
      expect(r.valid).toBe(true);
      expect(b.signers).toHaveLength(alg === 'aes-256' ? 1 : 2);
    });
  }

  it('accepts --expect-signer for each key that signed, in any case', () => {
    const r = verifyBundle(template.dir, { expectSigners: [template.ceremonyKeyid.toUpperCase(), keyidOf(template.rootSigner!.spki)] });
    expect(r.valid).toBe(true);
    expect(r.checks.find((c) => c.name === 'signers.expected')!.detail).toMatch(/every expected signer signed: ceremony .*, root /);
  });

  it('lets openssl check the ceremony signature with no Keyrite code in the loop', () => {
    const env = envelope(template);
    const work = path.join(tmp, 'openssl');
    mkdirSync(work);
    writeFileSync(path.join(work, 'pae.bin'), pae(env.payloadType, Buffer.from(env.payload, 'base64')));
    const sig = env.signatures.find((s) => s.keyid === template.ceremonyKeyid)!;
    writeFileSync(path.join(work, 'sig.der'), Buffer.from(sig.sig, 'base64'));
    const out = execFileSync('openssl', [
      'dgst', '-sha384', '-verify', file(template, `keys/${sig.keyid}.pub.pem`), '-signature', path.join(work, 'sig.der'), path.join(work, 'pae.bin'),
    ]).toString();
    expect(out.trim()).toBe('Verified OK');
    // And a different payload does not verify.
    writeFileSync(path.join(work, 'pae.bin'), pae(env.payloadType, Buffer.from(env.payload + 'AA', 'base64')));
    expect(() => execFileSync('openssl', ['dgst', '-sha384', '-verify', file(template, `keys/${sig.keyid}.pub.pem`), '-signature', path.join(work, 'sig.der'), path.join(work, 'pae.bin')], { stdio: 'pipe' })).toThrow();
  });
});

describe('verifyBundle rejects edited transcripts', () => {
  it('rejects a deleted line', () => {
    const b = fresh();
    const l = lines(b);
    l.splice(3, 1);
    writeFileSync(file(b, 'transcript.jsonl'), l.join('\n') + '\n');
    const r = verifyBundle(b.dir);
    expect(r.valid).toBe(false);
    expect(failed(r)).toEqual(expect.arrayContaining(['transcript.chain', 'transcript.seq', 'subjects.digests', 'statement.chain']));
  });

  it('rejects two swapped lines', () => {
    const b = fresh();
    const l = lines(b);
    [l[4], l[5]] = [l[5], l[4]];
    writeFileSync(file(b, 'transcript.jsonl'), l.join('\n') + '\n');
    const r = verifyBundle(b.dir);
    expect(r.valid).toBe(false);
    expect(failed(r)).toEqual(expect.arrayContaining(['transcript.chain', 'transcript.seq', 'subjects.digests']));
  });

  it('rejects an edited event even when the forger re-chains every following line', () => {
    const b = fresh();
    rewriteTranscript(b.dir, (evs) => {
      const s = evs.find((e) => e.type === 'backup.recovery-tested')!;
      s.data = { ...s.data, detail: 'edited after the fact' };
      return evs;
    });
    const r = verifyBundle(b.dir);
    expect(r.valid).toBe(false);
    // The chain itself is consistent again, so only the signed statement and completion catch it.
    expect(failed(r)).toEqual(['subjects.digests', 'statement.chain', 'ceremony.completed']);

    // Fixing ceremony.completed too still leaves the signed chainHead and digest.
    const b2 = fresh();
    rewriteTranscript(b2.dir, (evs) => evs.filter((e) => e.type !== 'note.added'), { fixCompletion: true });
    expect(failed(verifyBundle(b2.dir))).toEqual(['subjects.digests', 'statement.chain']);
  });
});

describe('each check fails on its own', () => {
  /** Serialises a note with a different key order: same meaning, not JCS. */
  const reordered = (e: { type: string }, i: number) =>
    e.type === 'note.added' && i === 11 ? JSON.stringify(Object.fromEntries(Object.entries(e).reverse())) : canonicalJson(e);

  it('transcript.canonical: a non-canonical line, re-chained and re-signed', () => {
    const b = fresh();
    rewriteTranscript(b.dir, (e) => e, { fixCompletion: true, serialize: reordered });
    resignBundle(b);
    expectOnly(verifyBundle(b.dir), 'transcript.canonical');
  });

  it('transcript.chain: one wrong prev, re-signed', () => {
    const b = fresh();
    rewriteTranscript(b.dir, (evs) => (evs[11].prev = 'f'.repeat(64), evs), { fixCompletion: true, keepPrev: (_e, i) => i === 11 });
    resignBundle(b);
    const r = verifyBundle(b.dir);
    expectOnly(r, 'transcript.chain');
    expect(r.checks.find((c) => c.name === 'transcript.chain')!.detail).toBe('transcript.jsonl line 12: prev does not match the hash of line 11');
  });

  it('transcript.seq: one wrong seq, re-signed', () => {
    const b = fresh();
    rewriteTranscript(b.dir, (evs) => evs.map((e, i) => ({ ...e, seq: i === 11 ? 99 : i })), { fixCompletion: true, keepSeq: true });
    resignBundle(b);
    expectOnly(verifyBundle(b.dir), 'transcript.seq');
  });

  it('transcript.time: time going back, re-signed', () => {
    const b = fresh();
    rewriteTranscript(b.dir, (evs) => ((evs[11].time = '2026-11-22T13:00:00.000Z'), evs), { fixCompletion: true });
    resignBundle(b);
    expectOnly(verifyBundle(b.dir), 'transcript.time');
  });

  it('envelope.format: an unknown payloadType stops every envelope check', () => {
    const b = fresh();
    const env = envelope(b);
    env.payloadType = 'application/json';
    writeFileSync(file(b, 'transcript.dsse.json'), JSON.stringify(env));
    const r = verifyBundle(b.dir);
    expect(r.valid).toBe(false);
    expect(failed(r)[0]).toBe('envelope.format');
    expect(r.verdict).toBe('INVALID');
  });

  it('statement.format: a wrong predicateType, properly signed', () => {
    const b = fresh();
    resignBundle(b, undefined, 'urn:example:other:v1');
    const r = verifyBundle(b.dir);
    expect(failed(r)[0]).toBe('statement.format');
    expect(r.checks.find((c) => c.name === 'statement.format')!.detail).toMatch(/predicateType is "urn:example:other:v1"/);
  });

  it('signatures.verify: the root signature replaced by one over other data', () => {
    const b = fresh();
    const env = envelope(b);
    const rootId = keyidOf(b.rootSigner!.spki);
    env.signatures.find((s) => s.keyid === rootId)!.sig = b.rootSigner!.sign(Buffer.from('something else')).toString('base64');
    writeFileSync(file(b, 'transcript.dsse.json'), JSON.stringify(env));
    const r = verifyBundle(b.dir);
    expectOnly(r, 'signatures.verify');
    expect(r.checks.find((c) => c.name === 'signatures.verify')!.detail).toMatch(/signature by root key .* does not verify/);
  });

  it('signers.keyids: a keys/<keyid>.pub.pem holding another key, re-signed', () => {
    const b = fresh();
    const other = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ type: 'spki', format: 'der' });
    const wrongName = keyidOf(generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ type: 'spki', format: 'der' }));
    writeFileSync(file(b, `keys/${wrongName}.pub.pem`), spkiToPem(other));
    resignBundle(b);
    expectOnly(verifyBundle(b.dir), 'signers.keyids');
  });

  it('signers.ceremony: signed by the root alone', () => {
    const b = { ...fresh() };
    b.signers = [b.rootSigner!];
    resignBundle(b);
    expectOnly(verifyBundle(b.dir), 'signers.ceremony');
  });

  it('signers.expected: an unknown keyid', () => {
    const r = verifyBundle(template.dir, { expectSigners: [sha256Hex('someone else')] });
    expectOnly(r, 'signers.expected');
    expect(r.checks.find((c) => c.name === 'signers.expected')!.detail).toMatch(/^expected signer [0-9a-f]{12}… did not sign$/);
  });

  it('subjects.digests: report.html edited after signing', () => {
    const b = fresh();
    appendFileSync(file(b, 'report.html'), '<p>added later</p>');
    const r = verifyBundle(b.dir);
    expectOnly(r, 'subjects.digests');
    expect(r.checks.find((c) => c.name === 'subjects.digests')!.detail).toBe('report.html does not match its subject digest');
  });

  it('subjects.complete: a file added, a file removed, a symlink', () => {
    const b = fresh();
    writeFileSync(file(b, 'exports/vault-prod/extra.bin'), 'x');
    expectOnly(verifyBundle(b.dir), 'subjects.complete');
    expect(verifyBundle(b.dir).checks.find((c) => c.name === 'subjects.complete')!.detail).toBe('exports/vault-prod/extra.bin is not a subject of the statement');
    const b2 = fresh();
    unlinkSync(file(b2, 'report.html'));
    expectOnly(verifyBundle(b2.dir), 'subjects.complete');
    const b3 = fresh();
    symlinkSync('/etc/hostname', file(b3, 'link'));
    expectOnly(verifyBundle(b3.dir), 'subjects.complete');
  });

  it('statement.chain: a signed chainHead and eventCount that are not the log', () => {
    const b = fresh();
    resignBundle(b, (p) => (p.eventCount = 5));
    expectOnly(verifyBundle(b.dir), 'statement.chain');
    const b2 = fresh();
    resignBundle(b2, (p) => (p.chainHead = sha256Hex('x')));
    expectOnly(verifyBundle(b2.dir), 'statement.chain');
  });

  it('ceremony.id: a statement naming another ceremony', () => {
    const b = fresh();
    resignBundle(b, (p) => (p.ceremonyId = 'another-ceremony'));
    expectOnly(verifyBundle(b.dir), 'ceremony.id');
  });

  it('events.required: hsm.selected removed, re-chained and re-signed', () => {
    const b = fresh();
    rewriteTranscript(b.dir, (evs) => evs.filter((e) => e.type !== 'hsm.selected'), { fixCompletion: true });
    resignBundle(b);
    const r = verifyBundle(b.dir);
    expectOnly(r, 'events.required');
    expect(r.checks.find((c) => c.name === 'events.required')!.detail).toBe('no hsm.selected event');
  });

  it('plan.sha256: plan.json changed and re-signed', () => {
    const b = fresh();
    appendFileSync(file(b, 'plan.json'), ' ');
    resignBundle(b);
    expectOnly(verifyBundle(b.dir), 'plan.sha256');
  });

  it('root.key: keys/root.pub.pem replaced and re-signed', () => {
    const b = fresh();
    unlinkSync(file(b, 'keys/root.pub.pem'));
    writeFileSync(file(b, 'keys/root.pub.pem'), spkiToPem(generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ type: 'spki', format: 'der' })));
    resignBundle(b);
    const r = verifyBundle(b.dir);
    expectOnly(r, 'root.key');
    expect(r.checks.find((c) => c.name === 'root.key')!.detail).toBe('keys/root.pub.pem is not the key in key.generated');
  });

  it('root.key: a statement whose root is another key', () => {
    const b = fresh();
    resignBundle(b, (p) => (p.root = { ...p.root, publicKeySha256: sha256Hex('x') }));
    expectOnly(verifyBundle(b.dir), 'root.key');
  });

  it('backup.wrapped: backup/root.wrapped replaced and re-signed', () => {
    const b = fresh();
    writeFileSync(file(b, 'backup/root.wrapped'), randomBytes(200));
    resignBundle(b);
    expectOnly(verifyBundle(b.dir), 'backup.wrapped');
  });

  it('shares.confirmed: one confirmation missing', () => {
    const b = fresh();
    rewriteTranscript(b.dir, (evs) => evs.filter((e) => !(e.type === 'share.confirmed' && e.data.member === 2)), { fixCompletion: true });
    resignBundle(b);
    const r = verifyBundle(b.dir);
    expectOnly(r, 'shares.confirmed');
    expect(r.checks.find((c) => c.name === 'shares.confirmed')!.detail).toBe('share group 1 member 2 (c2) has no share.confirmed');
  });

  it('shares.confirmed: a confirmation with the wrong check value', () => {
    const b = fresh();
    rewriteTranscript(b.dir, (evs) => evs.map((e) => (e.type === 'share.confirmed' && e.data.member === 3 ? { ...e, data: { ...e.data, checkValue: '0000000000000000' } } : e)), { fixCompletion: true });
    resignBundle(b);
    expectOnly(verifyBundle(b.dir), 'shares.confirmed');
  });

  it('backup.recovery-tested: the recovery test failed', () => {
    const b = fresh();
    rewriteTranscript(b.dir, (evs) => evs.map((e) => (e.type === 'backup.recovery-tested' ? { ...e, data: { ...e.data, ok: false } } : e)), { fixCompletion: true });
    resignBundle(b);
    expectOnly(verifyBundle(b.dir), 'backup.recovery-tested');
  });

  it('exports.files: an export file changed and re-signed', () => {
    const b = fresh();
    appendFileSync(file(b, 'exports/vault-prod/import.json'), ' ');
    resignBundle(b);
    expectOnly(verifyBundle(b.dir), 'exports.files');
  });

  it('ceremony.completed: a wrong chainHead in the event', () => {
    const b = fresh();
    rewriteTranscript(b.dir, (evs) => evs.map((e) => (e.type === 'ceremony.completed' ? { ...e, data: { ...e.data, chainHead: sha256Hex('x') } } : e)));
    resignBundle(b);
    const r = verifyBundle(b.dir);
    expectOnly(r, 'ceremony.completed');
    expect(r.verdict).toBe('INVALID');
  });

  it('ceremony.completed: an event after it (signed) is refused', () => {
    const b = fresh();
    rewriteTranscript(b.dir, (evs) => [...evs, { ...evs[11], time: evs.at(-1)!.time }]);
    resignBundle(b);
    const r = verifyBundle(b.dir);
    expect(failed(r)).toEqual(['ceremony.completed']);
    expect(r.checks.find((c) => c.name === 'ceremony.completed')!.detail).toBe('ceremony.completed (seq 13) is not the last event');
    expect(r.verdict).toBe('INVALID');
  });

  it('recoveries: a stray file in recoveries/', () => {
    const b = fresh();
    mkdirSync(file(b, 'recoveries'));
    writeFileSync(file(b, 'recoveries/notes.txt'), 'x');
    expectOnly(verifyBundle(b.dir), 'recoveries');
  });
});

describe('incomplete ceremonies', () => {
  it('reports a ceremony that stopped as INCOMPLETE with the last step, never valid', () => {
    const b = makeSoftwareBundle(path.join(tmp, 'stopped'), { stopAfter: 'key.generated' });
    const r = verifyBundle(b.dir);
    expect(r).toMatchObject({ valid: false, complete: false, lastStep: 'key.generated', verdict: 'INCOMPLETE: stopped after key.generated' });
    expect(r.checks.find((c) => c.name === 'transcript.chain')!.ok).toBe(true);
    expect(r.checks.find((c) => c.name === 'envelope.format')!.detail).toBe('no transcript.dsse.json: the bundle was never signed');
  });

  it('reports an aborted ceremony with its reason, even when the partial bundle is signed', () => {
    const b = makeSoftwareBundle(path.join(tmp, 'aborted'), { stopAfter: 'backup.split', abortReason: 'the printer jammed' });
    const r = verifyBundle(b.dir);
    expect(r).toMatchObject({ valid: false, complete: false, lastStep: 'ceremony.aborted', verdict: "INCOMPLETE: aborted at step 'backup.split': the printer jammed" });
    expect(r.checks.find((c) => c.name === 'signatures.verify')!.ok).toBe(true);
  });

  it('calls an incomplete ceremony with a damaged transcript INVALID', () => {
    const b = makeSoftwareBundle(path.join(tmp, 'stopped-tampered'), { stopAfter: 'backup.split' });
    const l = readFileSync(file(b, 'transcript.jsonl'), 'utf8').split('\n');
    l.splice(1, 1);
    writeFileSync(file(b, 'transcript.jsonl'), l.join('\n'));
    expect(verifyBundle(b.dir).verdict).toBe('INVALID');
  });

  it('calls a completed but unsigned ceremony INCOMPLETE', () => {
    const b = fresh();
    unlinkSync(file(b, 'transcript.dsse.json'));
    expect(verifyBundle(b.dir)).toMatchObject({ valid: false, complete: false, verdict: 'INCOMPLETE: completed but never signed' });
  });
});

describe('recoveries', () => {
  it('verifies and lists recoveries/<time>/ sub-bundles', () => {
    const b = fresh();
    addRecovery(b, { time: '2027-03-01T10-00-00.000Z' });
    addRecovery(b, { time: '2027-04-01T09-00-00.000Z', complete: false });
    const r = verifyBundle(b.dir);
    expect(failed(r)).toEqual([]);
    expect(r.valid).toBe(true);
    expect(r.recoveries.map((x) => [x.path, x.valid, x.verdict])).toEqual([
      ['recoveries/2027-03-01T10-00-00.000Z', true, 'VALID'],
      ['recoveries/2027-04-01T09-00-00.000Z', false, 'INCOMPLETE: stopped after recovery.share-accepted'],
    ]);
    expect(r.checks.find((c) => c.name === 'recoveries')!.detail).toBe('2 recoveries verified, 1 stopped early (incomplete)');
  });

  it('rejects a tampered recovery transcript and names it', () => {
    const b = fresh();
    const dir = addRecovery(b);
    const t = path.join(dir, 'transcript.jsonl');
    writeFileSync(t, readFileSync(t, 'utf8').replace('"member":2', '"member":3'));
    const r = verifyBundle(b.dir);
    expectOnly(r, 'recoveries');
    expect(r.recoveries[0].verdict).toBe('INVALID');
    expect(r.checks.find((c) => c.name === 'recoveries')!.detail).toMatch(/^recoveries\/2027-03-01T10-00-00.000Z is not valid: /);
  });

  it('rejects a recovery that names another ceremony', () => {
    const b = fresh();
    addRecovery(b, { ceremonyId: 'someone-else' });
    const r = verifyBundle(b.dir);
    expectOnly(r, 'recoveries');
    expect(r.recoveries[0].checks.filter((c) => !c.ok).map((c) => c.name)).toContain('recovery.ceremony');
  });

  it('rejects a recovery signed by a root key that is not the ceremony root', () => {
    const b = fresh();
    const impostor = softwareSigner('root', generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey);
    addRecovery({ ...b, rootSigner: impostor });
    const r = verifyBundle(b.dir);
    expect(r.valid).toBe(false);
    // A wrong root is INVALID; and with it the recovery has no signature by the recovered root.
    expect(r.recoveries[0].verdict).toBe('INVALID');
    expect(r.recoveries[0].checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['recovery.root-key', 'recovery.authenticated']);
  });
});

describe('garbage never crashes the verifier', () => {
  const cases: [string, (b: SoftwareBundle) => void][] = [
    ['an empty folder', (b) => { rmSync(b.dir, { recursive: true }); mkdirSync(b.dir); }],
    ['a random transcript', (b) => writeFileSync(file(b, 'transcript.jsonl'), randomBytes(500))],
    ['a random envelope', (b) => writeFileSync(file(b, 'transcript.dsse.json'), randomBytes(500))],
    ['an envelope that is JSON null', (b) => writeFileSync(file(b, 'transcript.dsse.json'), 'null')],
    ['a payload that is not JSON', (b) => { const e = envelope(b); e.payload = Buffer.from('not json').toString('base64'); writeFileSync(file(b, 'transcript.dsse.json'), JSON.stringify(e)); }],
    ['a payload that is an array', (b) => { const e = envelope(b); e.payload = Buffer.from('[1,2]').toString('base64'); writeFileSync(file(b, 'transcript.dsse.json'), JSON.stringify(e)); }],
    ['signatures that are strings', (b) => { const e = envelope(b) as unknown as Record<string, unknown>; e.signatures = ['x']; writeFileSync(file(b, 'transcript.dsse.json'), JSON.stringify(e)); }],
    ['transcript lines that are arrays', (b) => writeFileSync(file(b, 'transcript.jsonl'), '[1]\n[2]\n')],
    ['events whose data fields have wrong types', (b) => rewriteTranscript(b.dir, (evs) => evs.map((e) => ({ ...e, data: { shares: 'x', publicKey: 7, files: 3, ok: 'yes', chainHead: null } })))],
    ['a plan.json folder', (b) => { unlinkSync(file(b, 'plan.json')); mkdirSync(file(b, 'plan.json')); }],
    ['a transcript that is a folder', (b) => { unlinkSync(file(b, 'transcript.jsonl')); mkdirSync(file(b, 'transcript.jsonl')); }],
    ['a keys/ file that is not PEM', (b) => writeFileSync(file(b, `keys/${'a'.repeat(64)}.pub.pem`), 'nope')],
  ];
  for (const [what, damage] of cases) {
    it(`fails cleanly on ${what}`, () => {
      const b = fresh();
      damage(b);
      const r = verifyBundle(b.dir);
      expect(r.valid).toBe(false);
      expect(failed(r).length).toBeGreaterThan(0);
      for (const c of r.checks) expect(c.detail).not.toMatch(/could not be checked/);
    });
  }

  it('never reads a subject outside the bundle', () => {
    const b = fresh();
    const outside = path.join(tmp, 'outside.txt');
    writeFileSync(outside, 'secret');
    const st = JSON.parse(Buffer.from(envelope(b).payload, 'base64').toString());
    st.subject.push({ name: '../outside.txt', digest: { sha256: sha256Hex('secret') } });
    const payload = Buffer.from(canonicalJson(st));
    const env: DsseEnvelope = {
      payloadType: 'application/vnd.in-toto+json',
      payload: payload.toString('base64'),
      signatures: b.signers.map((s) => ({ keyid: keyidOf(s.spki), sig: s.sign(pae('application/vnd.in-toto+json', payload)).toString('base64') })),
    };
    writeFileSync(file(b, 'transcript.dsse.json'), JSON.stringify(env));
    const r = verifyBundle(b.dir);
    expect(r.checks.find((c) => c.name === 'statement.format')).toMatchObject({ ok: false, detail: 'subject[9].name is not a relative path inside the folder' });
  });

  it('fails cleanly on a folder that does not exist', () => {
    const r = verifyBundle(path.join(tmp, 'nope'));
    expect(r.valid).toBe(false);
    expect(r.checks[0]).toMatchObject({ name: 'transcript.canonical', ok: false, detail: 'transcript.jsonl is missing or unreadable' });
  });

  it('writeSignerPublicKey never overwrites', () => {
    const b = fresh();
    expect(() => writeSignerPublicKey(b.dir, b.ceremonySigner.spki)).toThrow(/already exists/);
  });
});
