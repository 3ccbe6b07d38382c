/**
 * What the attestation page (sheets/attestation.ts) shows, read from a signed bundle or recovery
 * folder: the statement digest and predicate from transcript.dsse.json, times and participants from
 * the transcript, co-signers from cosignatures/. Nothing is verified here — the page names the
 * statement by its digest, and `keyrite verify --expect-statement` is what checks a bundle against it.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { OperationError, UsageError } from '../errors.ts';
import { requireBundleFolder } from '../util/bundle-dir.ts';
import { COSIGNATURES_DIR, ENVELOPE_FILE, statementDigest, TRANSCRIPT_FILE, type DsseEnvelope, type InTotoStatement } from '../transcript/dsse.ts';
import type { AttestationData } from '../sheets/attestation.ts';

type Ev = { type: string; time: string; data: Record<string, unknown> };

function readEvents(file: string): Ev[] {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Ev);
  } catch (err) {
    throw new UsageError(`${file} cannot be read as a transcript (${(err as NodeJS.ErrnoException).code ?? 'not JSON lines'})`);
  }
}

export function readAttestationData(folder: string, opts: { paper?: 'A4' | 'Letter' } = {}): AttestationData {
  const dir = path.resolve(folder);
  const transcript = path.join(dir, TRANSCRIPT_FILE);
  requireBundleFolder(dir, folder);
  const envFile = path.join(dir, ENVELOPE_FILE);
  if (!existsSync(envFile)) throw new OperationError(`${dir} is not signed yet (no ${ENVELOPE_FILE}): an attestation names a signed statement`);
  let envelope: DsseEnvelope;
  let statement: InTotoStatement;
  try {
    envelope = JSON.parse(readFileSync(envFile, 'utf8')) as DsseEnvelope;
    statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as InTotoStatement;
    if (!statement?.predicate || !Array.isArray(envelope.signatures)) throw new Error('shape');
  } catch {
    throw new UsageError(`${envFile} is not a DSSE envelope over a Keyrite statement`);
  }
  const events = readEvents(transcript);
  const first = events[0];
  const kind = first?.type === 'recovery.started' ? 'recovery' : 'ceremony';
  // A recovery's participants are the ceremony's: its plan names who witnesses.
  const started = kind === 'recovery' ? readEvents(path.join(dir, '..', '..', TRANSCRIPT_FILE))[0] : first;
  const rehearsal = started?.data.rehearsal === true;
  const participants = (Array.isArray(started?.data.participants) ? started.data.participants : []) as { id: string; name: string; role: string }[];
  const p = statement.predicate;
  const listed = new Map(p.signers.map((s) => [s.keyid, s.role]));
  const signatures = envelope.signatures.map((s) => {
    const role = listed.get(s.keyid);
    if (role) return { keyid: s.keyid, role: role === 'ceremony' ? 'ceremony signer (one-time)' : role };
    try {
      const rec = JSON.parse(readFileSync(path.join(dir, COSIGNATURES_DIR, `${s.keyid}.json`), 'utf8')) as { participant?: string; role?: string };
      return { keyid: s.keyid, role: `co-signer, ${rec.role ?? 'unknown role'}`, participant: rec.participant };
    } catch {
      return { keyid: s.keyid, role: 'co-signer (no record)' };
    }
  });
  return {
    kind,
    ceremonyId: String(p.ceremonyId ?? ''),
    title: typeof p.title === 'string' ? p.title : String(started?.data.title ?? ''),
    rehearsal,
    startedAt: first?.time ?? '',
    endedAt: events.at(-1)?.time ?? '',
    root: { algorithm: p.root?.algorithm ?? '', label: p.root?.label ?? '', publicKeySha256: p.root?.publicKeySha256, kcv: p.root?.kcv },
    statementSha256: statementDigest(envelope),
    chainHead: String(p.chainHead ?? ''),
    eventCount: Number(p.eventCount ?? events.length),
    signatures,
    signatories: participants.filter((x) => x.role === 'witness' || x.role === 'administrator'),
    paper: opts.paper,
  };
}

