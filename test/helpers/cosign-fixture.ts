/**
 * Co-signing and re-planning a software bundle for verifier tests. Co-signing is only appending a
 * signature over the same PAE and writing cosignatures/<keyid>.json (docs/transcript.md), so node:crypto keys
 * stand in for the witnesses' tokens here; the `ceremony cosign` command does the same with PKCS#11.
 */
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { sha256Hex } from '../../electron/core/transcript/chain.ts';
import { DSSE_PAYLOAD_TYPE, ENVELOPE_FILE, keyidOf, pae, softwareSigner, type DsseEnvelope } from '../../electron/core/transcript/dsse.ts';
import type { TranscriptEvent } from '../../electron/core/transcript/events.ts';
import { resignBundle, rewriteTranscript, type SoftwareBundle } from './bundle-fixture.ts';

export interface Cosigner {
  participant: string;
  role: 'witness' | 'administrator';
  key: KeyObject;
  keyid: string;
  spki: Buffer;
}

export function newCosigner(participant: string, role: Cosigner['role'], kind: 'p256' | 'p384' | 'ed25519' | 'rsa' = 'p256'): Cosigner {
  const key =
    kind === 'ed25519'
      ? generateKeyPairSync('ed25519').privateKey
      : kind === 'rsa'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
        : generateKeyPairSync('ec', { namedCurve: kind === 'p384' ? 'P-384' : 'P-256' }).privateKey;
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  return { participant, role, key, keyid: keyidOf(spki), spki };
}

/** Appends `c`'s signature to the envelope of `folder` (a bundle or a recovery) and writes its record. */
export function cosign(folder: string, c: Cosigner, opts: { record?: boolean; recordEdit?: (r: Record<string, unknown>) => void } = {}): void {
  const file = path.join(folder, ENVELOPE_FILE);
  const env = JSON.parse(readFileSync(file, 'utf8')) as DsseEnvelope;
  const sig = softwareSigner('ceremony', c.key).sign(pae(DSSE_PAYLOAD_TYPE, Buffer.from(env.payload, 'base64')));
  env.signatures.push({ keyid: c.keyid, sig: sig.toString('base64') });
  writeFileSync(file, JSON.stringify(env, null, 2) + '\n');
  if (opts.record === false) return;
  const record: Record<string, unknown> = {
    participant: c.participant,
    role: c.role,
    spki: c.spki.toString('base64'),
    signedAt: '2026-11-22T15:00:00.000Z',
    token: { manufacturer: 'SoftHSM project', model: 'SoftHSM v2', serialNumber: `serial-${c.participant}` },
  };
  opts.recordEdit?.(record);
  mkdirSync(path.join(folder, 'cosignatures'), { recursive: true });
  writeFileSync(path.join(folder, 'cosignatures', `${c.keyid}.json`), JSON.stringify(record, null, 2) + '\n');
}

/** The statement digest of a folder's envelope. */
export function statementDigest(folder: string): string {
  const env = JSON.parse(readFileSync(path.join(folder, ENVELOPE_FILE), 'utf8')) as DsseEnvelope;
  return sha256Hex(Buffer.from(env.payload, 'base64'));
}

/**
 * Edits plan.json and/or ceremony.started's data as a ceremony that ran that way would have
 * recorded it, then re-signs with the bundle's signers (no co-signatures). `predicate` edits the
 * statement's predicate (e.g. ceremonySigner).
 */
export function rerun(
  b: SoftwareBundle,
  edit: { plan?: (plan: Record<string, any>) => void; started?: (data: Record<string, any>) => void; events?: (events: TranscriptEvent[]) => TranscriptEvent[]; predicate?: (p: Record<string, unknown>) => void },
): void {
  const planFile = path.join(b.dir, 'plan.json');
  let planSha = sha256Hex(readFileSync(planFile));
  if (edit.plan) {
    const plan = JSON.parse(readFileSync(planFile, 'utf8'));
    edit.plan(plan);
    const bytes = Buffer.from(JSON.stringify(plan, null, 2) + '\n');
    writeFileSync(planFile, bytes);
    planSha = sha256Hex(bytes);
  }
  rewriteTranscript(
    b.dir,
    (evs) => {
      const out = evs.map((e) => (e.type === 'ceremony.started' ? { ...e, data: { ...e.data, planSha256: planSha } } : e));
      if (edit.started) edit.started(out[0].data as Record<string, any>);
      return edit.events ? edit.events(out) : out;
    },
    { fixCompletion: true },
  );
  resignBundle(b, edit.predicate as ((p: any) => void) | undefined);
}
