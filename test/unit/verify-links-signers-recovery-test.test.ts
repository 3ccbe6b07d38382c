/**
 * Verifier rules that tie the parts of a bundle together: no symlink in a bundle is ever followed
 * (recoveries/ included), an asymmetric root signs its own bundle, the ceremony signer is the key
 * the transcript recorded, and the recovery test came after the confirmations with a threshold set.
 * Each case breaks exactly one thing (re-signing where a forger with the signer could) and names
 * the check that catches it.
 */
import { generateKeyPairSync } from 'node:crypto';
import { cpSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listSubjectFiles, softwareSigner, writeSignerPublicKey } from '../../electron/core/transcript/dsse.ts';
import type { TranscriptEvent } from '../../electron/core/transcript/events.ts';
import { verifyBundle, type VerifyResult } from '../../electron/core/verify/index.ts';
import { addRecovery, makeSoftwareBundle, resignBundle, rewriteTranscript, type SoftwareBundle } from '../helpers/bundle-fixture.ts';

const tmp = mkdtempSync(path.join(tmpdir(), 'keyrite-verify-ties-'));
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

const file = (b: SoftwareBundle, rel: string) => path.join(b.dir, ...rel.split('/'));
const failed = (r: { checks: { name: string; ok: boolean }[] }) => r.checks.filter((c) => !c.ok).map((c) => c.name);
const detail = (r: { checks: { name: string; detail: string }[] }, name: string) => r.checks.find((c) => c.name === name)!.detail;

function expectOnly(r: VerifyResult, name: string): void {
  expect(r.valid).toBe(false);
  expect(failed(r)).toEqual([name]);
}

const newCeremonySigner = () => softwareSigner('ceremony', generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey);

describe('symlinks are never followed', () => {
  it('recoveries: a regular file named recoveries fails', () => {
    const b = fresh();
    writeFileSync(file(b, 'recoveries'), 'x\n');
    const r = verifyBundle(b.dir);
    expectOnly(r, 'recoveries');
    expect(detail(r, 'recoveries')).toBe('recoveries is not a folder');
  });

  it('recoveries: a symlinked recoveries/ holding a valid recovery is not followed', () => {
    const elsewhere = fresh();
    addRecovery(elsewhere);
    expect(verifyBundle(elsewhere.dir).recoveries).toHaveLength(1);
    const b = fresh();
    symlinkSync(file(elsewhere, 'recoveries'), file(b, 'recoveries'));
    const r = verifyBundle(b.dir);
    expectOnly(r, 'recoveries');
    expect(detail(r, 'recoveries')).toBe('recoveries is a symbolic link; links in a bundle are never followed');
    expect(r.recoveries).toEqual([]);
  });

  it('envelope.format: a symlinked transcript.dsse.json is not read', () => {
    const b = fresh();
    const outside = path.join(tmp, `envelope-${copies}.json`);
    renameSync(file(b, 'transcript.dsse.json'), outside);
    symlinkSync(outside, file(b, 'transcript.dsse.json'));
    const r = verifyBundle(b.dir);
    expect(r.verdict).toBe('INVALID');
    expect(failed(r)[0]).toBe('envelope.format');
    expect(detail(r, 'envelope.format')).toBe('transcript.dsse.json is a symbolic link; links in a bundle are never followed');
  });

  it('transcript.canonical: a symlinked transcript.jsonl is not read', () => {
    const b = fresh();
    const outside = path.join(tmp, `transcript-${copies}.jsonl`);
    renameSync(file(b, 'transcript.jsonl'), outside);
    symlinkSync(outside, file(b, 'transcript.jsonl'));
    const r = verifyBundle(b.dir);
    expect(r.verdict).toBe('INVALID');
    expect(detail(r, 'transcript.canonical')).toBe('transcript.jsonl is a symbolic link; links in a bundle are never followed');
  });

  it('subjects.digests: files behind a symlinked folder are not read', () => {
    const b = fresh();
    const outside = path.join(tmp, `exports-${copies}`);
    renameSync(file(b, 'exports'), outside);
    symlinkSync(outside, file(b, 'exports'));
    const r = verifyBundle(b.dir);
    expect(r.valid).toBe(false);
    expect(detail(r, 'subjects.complete')).toBe('exports is a symbolic link; links in a bundle are never followed');
    // The digest check no longer counts the export file it would have read through the link.
    expect(detail(r, 'subjects.digests')).toMatch(/^\d+ file digests match/);
    expect(failed(r)).toEqual(['subjects.complete', 'exports.files']);
  });

  it('signing refuses a bundle whose recoveries is not a folder', () => {
    const b = fresh();
    writeFileSync(file(b, 'recoveries'), 'x\n');
    expect(() => listSubjectFiles(b.dir)).toThrow(/recoveries is not a folder/);
  });
});

describe('an asymmetric root signs its own bundle', () => {
  it('root.key: a completed EC root bundle signed by the ceremony signer alone is INVALID', () => {
    const b = { ...fresh() };
    b.signers = [b.ceremonySigner];
    resignBundle(b);
    const r = verifyBundle(b.dir);
    expectOnly(r, 'root.key');
    expect(r.verdict).toBe('INVALID');
    expect(detail(r, 'root.key')).toBe(`the root key ${template.root.publicKeySha256!.slice(0, 12)}… did not sign the statement (role root)`);
  });

  it('root.key: the same for an Ed25519 root', () => {
    const b = makeSoftwareBundle(path.join(tmp, 'ed25519-no-root-sig'), { rootAlgorithm: 'ed25519', rootSigns: false });
    expectOnly(verifyBundle(b.dir), 'root.key');
  });

  it('an AES root has no root signer and stays valid', () => {
    const b = makeSoftwareBundle(path.join(tmp, 'aes'), { rootAlgorithm: 'aes-256' });
    expect(failed(verifyBundle(b.dir))).toEqual([]);
  });

  it('an aborted bundle signed by the ceremony signer alone (as ceremony abort signs) stays INCOMPLETE', () => {
    const b = makeSoftwareBundle(path.join(tmp, 'aborted-ceremony-only'), { stopAfter: 'backup.split', abortReason: 'power cut', rootSigns: false });
    const r = verifyBundle(b.dir);
    expect(r).toMatchObject({ valid: false, complete: false, verdict: "INCOMPLETE: aborted at step 'backup.split': power cut" });
    expect(r.checks.find((c) => c.name === 'signatures.verify')!.ok).toBe(true);
  });

  it('recovery.authenticated: a recovery of an EC root not signed by the root is UNAUTHENTICATED, a warning', () => {
    const b = fresh();
    addRecovery({ ...b, rootSigner: undefined });
    const r = verifyBundle(b.dir);
    expect(r.valid).toBe(true);
    expect(failed(r)).toEqual([]);
    expect(r.recoveries[0]).toMatchObject({ valid: true, authenticated: false, verdict: 'UNAUTHENTICATED' });
    expect(failed(r.recoveries[0])).toEqual(['recovery.authenticated']);
    expect(r.warnings).toContain('recoveries: recoveries/2027-03-01T10-00-00.000Z is UNAUTHENTICATED (no known key signed)');
  });
});

describe("the ceremony signer is the transcript's signer", () => {
  it('signers.ceremony: signed by another P-384 key than signer.generated recorded', () => {
    const b = { ...fresh() };
    const other = newCeremonySigner();
    writeSignerPublicKey(b.dir, other.spki);
    b.signers = [other, b.rootSigner!];
    resignBundle(b);
    const r = verifyBundle(b.dir);
    expectOnly(r, 'signers.ceremony');
    expect(detail(r, 'signers.ceremony')).toMatch(/^the ceremony signer [0-9a-f]{12}… is not the key signer\.generated recorded \(seq 2, [0-9a-f]{12}…\)$/);
  });

  it('signers.ceremony: no signer.generated event at all', () => {
    const b = fresh();
    rewriteTranscript(b.dir, (evs) => evs.filter((e) => e.type !== 'signer.generated'), { fixCompletion: true });
    resignBundle(b);
    const r = verifyBundle(b.dir);
    expectOnly(r, 'signers.ceremony');
    expect(detail(r, 'signers.ceremony')).toBe('no signer.generated event records the ceremony signer');
  });

  it('signers.ceremony: a recovery signed by another key than its signer.generated', () => {
    const b = fresh();
    addRecovery(b, { signWith: newCeremonySigner() });
    const r = verifyBundle(b.dir);
    expectOnly(r, 'recoveries');
    expect(failed(r.recoveries[0])).toEqual(['signers.ceremony']);
  });
});

describe('the recovery test used a threshold set after every confirmation', () => {
  const edit = (b: SoftwareBundle, fn: (evs: TranscriptEvent[]) => TranscriptEvent[]) => {
    rewriteTranscript(b.dir, fn, { fixCompletion: true });
    resignBundle(b);
    return verifyBundle(b.dir);
  };
  const withShares = (shares: { group: number; member: number }[]) => (evs: TranscriptEvent[]) =>
    evs.map((e) => (e.type === 'backup.recovery-tested' ? { ...e, data: { ...e.data, shares } } : e));

  it('backup.recovery-tested: before the last share.confirmed', () => {
    const b = fresh();
    const r = edit(b, (evs) => {
      const i = evs.findIndex((e) => e.type === 'backup.recovery-tested');
      // Swap it with the confirmation before it, keeping the times in order.
      const [a, c] = [evs[i - 1], evs[i]];
      evs[i - 1] = { ...c, time: a.time };
      evs[i] = { ...a, time: c.time };
      return evs;
    });
    expectOnly(r, 'backup.recovery-tested');
    expect(detail(r, 'backup.recovery-tested')).toMatch(/^backup\.recovery-tested \(seq \d+\) comes before the last share\.confirmed \(seq \d+\)$/);
  });

  it('backup.recovery-tested: fewer shares than the group threshold', () => {
    const r = edit(fresh(), withShares([{ group: 1, member: 1 }]));
    expectOnly(r, 'backup.recovery-tested');
    expect(detail(r, 'backup.recovery-tested')).toMatch(/used 1 of group 1's threshold 2/);
  });

  it('backup.recovery-tested: the same share twice does not make a threshold', () => {
    expectOnly(edit(fresh(), withShares([{ group: 1, member: 1 }, { group: 1, member: 1 }])), 'backup.recovery-tested');
  });

  it('backup.recovery-tested: a share backup.split never made', () => {
    const r = edit(fresh(), withShares([{ group: 1, member: 1 }, { group: 1, member: 9 }]));
    expectOnly(r, 'backup.recovery-tested');
    expect(detail(r, 'backup.recovery-tested')).toMatch(/group 1 member 9 is not a share of backup\.split/);
  });

  it('backup.recovery-tested: the group threshold counts groups, not shares', () => {
    // Two groups of threshold 1, two groups needed: c1, c2 in group 1, c3 in group 2.
    const twoGroups = (shares: { group: number; member: number }[]) => (evs: TranscriptEvent[]) =>
      withShares(shares)(
        evs.map((e) => {
          if (e.type === 'backup.split') {
            const s = (e.data.shares as { custodian: string }[]).map((x, i) => ({ ...x, group: i < 2 ? 1 : 2, member: i < 2 ? i + 1 : 1 }));
            return { ...e, data: { ...e.data, groupThreshold: 2, groups: [{ threshold: 1, count: 2 }, { threshold: 1, count: 1 }], shares: s } };
          }
          if (e.type === 'share.confirmed' && e.data.custodian === 'c3') return { ...e, data: { ...e.data, group: 2, member: 1 } };
          return e;
        }),
      );
    const bad = edit(fresh(), twoGroups([{ group: 1, member: 1 }, { group: 1, member: 2 }]));
    expectOnly(bad, 'backup.recovery-tested');
    expect(detail(bad, 'backup.recovery-tested')).toMatch(/1 group met its threshold; backup\.split needs 2/);
    expect(failed(edit(fresh(), twoGroups([{ group: 1, member: 2 }, { group: 2, member: 1 }])))).toEqual([]);
  });
});

