/**
 * The envelope side of co-signing (docs/transcript.md): what a co-signer checks before signing, and how the
 * signature is added. A co-signature is one more `{keyid, sig}` in transcript.dsse.json over the same
 * PAE, plus cosignatures/<keyid>.json saying who signed with which key on which token. Neither the
 * envelope nor cosignatures/ is a subject of the statement, so co-signing never changes the payload.
 *
 * Before anyone signs, the folder must hold what the statement says: every existing signature
 * verifies (the statement's signers with their listed keys, earlier co-signers with the key in their
 * record), and the files are exactly the statement's subjects. A co-signer vouches for that.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { OperationError } from '../errors.ts';
import { requireBundleFolder } from '../util/bundle-dir.ts';
import { sha256Hex } from '../transcript/chain.ts';
import {
  COSIGNATURES_DIR,
  DSSE_PAYLOAD_TYPE,
  ENVELOPE_FILE,
  isCanonicalBase64,
  keyidOf,
  listSubjectFiles,
  pae,
  verifySignature,
  type DsseEnvelope,
  type InTotoStatement,
} from '../transcript/dsse.ts';

/** cosignatures/<keyid>.json (docs/transcript.md). */
export interface CosignatureRecord {
  participant: string;
  role: 'witness' | 'administrator';
  /** base64 of the co-signing key's SPKI DER. */
  spki: string;
  /** UTC, RFC 3339 with milliseconds. */
  signedAt: string;
  token: { manufacturer: string; model: string; serialNumber: string };
}

export interface SignedFolder {
  dir: string;
  /** The envelope file's bytes as read: the append is refused if they change before it. */
  envelopeBytes: Buffer;
  envelope: DsseEnvelope;
  statement: InTotoStatement;
  /** The PAE every signature is over. */
  pae: Buffer;
  /** Earlier co-signatures, by keyid. */
  cosigners: Map<string, CosignatureRecord>;
}

const cosignatureFile = (dir: string, keyid: string) => path.join(dir, COSIGNATURES_DIR, `${keyid}.json`);

/** Reads a co-signature record; throws OperationError when it is missing or does not name this key. */
function readRecord(dir: string, keyid: string): CosignatureRecord {
  const file = cosignatureFile(dir, keyid);
  let rec: CosignatureRecord;
  try {
    rec = JSON.parse(readFileSync(file, 'utf8')) as CosignatureRecord;
  } catch {
    throw new OperationError(`${file} is missing or not JSON: the envelope's signature ${keyid.slice(0, 16)}… is by no listed signer`);
  }
  if (!isCanonicalBase64(rec?.spki) || keyidOf(Buffer.from(rec.spki, 'base64')) !== keyid)
    throw new OperationError(`${file}: its spki is not the key ${keyid.slice(0, 16)}…`);
  return rec;
}

/**
 * Reads and checks a signed ceremony or recovery folder for co-signing. UsageError (exit 2) when the
 * folder is not a bundle; OperationError (exit 1) when it is unsigned or does not verify.
 */
export function readSignedFolder(dir: string): SignedFolder {
  requireBundleFolder(dir, dir);
  const file = path.join(dir, ENVELOPE_FILE);
  if (!existsSync(file)) throw new OperationError(`${dir} is not signed yet (no ${ENVELOPE_FILE}); only a signed statement can be co-signed`);
  const envelopeBytes = readFileSync(file);
  let envelope: DsseEnvelope;
  let statement: InTotoStatement;
  try {
    envelope = JSON.parse(envelopeBytes.toString('utf8')) as DsseEnvelope;
    if (envelope.payloadType !== DSSE_PAYLOAD_TYPE || !isCanonicalBase64(envelope.payload) || !Array.isArray(envelope.signatures)) throw new Error('shape');
    statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as InTotoStatement;
    if (!Array.isArray(statement?.subject) || !Array.isArray(statement?.predicate?.signers)) throw new Error('shape');
  } catch {
    throw new OperationError(`${file} is not a DSSE envelope over a Keyrite statement; nothing was signed`);
  }
  const msg = pae(envelope.payloadType, Buffer.from(envelope.payload, 'base64'));

  // Every signature verifies: the statement's signers with their keys, co-signers with their records'.
  const listed = new Map(statement.predicate.signers.map((s) => [s.keyid, s]));
  const cosigners = new Map<string, CosignatureRecord>();
  const seen = new Set<string>();
  for (const sig of envelope.signatures) {
    const keyid = String(sig?.keyid);
    if (seen.has(keyid)) throw new OperationError(`${file} holds two signatures by ${keyid.slice(0, 16)}…; the envelope has been tampered with, nothing was signed`);
    seen.add(keyid);
    const signer = listed.get(keyid);
    let spki: Buffer;
    if (signer) spki = Buffer.from(signer.spki, 'base64');
    else {
      const rec = readRecord(dir, keyid);
      cosigners.set(keyid, rec);
      spki = Buffer.from(rec.spki, 'base64');
    }
    if (!isCanonicalBase64(sig.sig) || !verifySignature(spki, msg, Buffer.from(sig.sig, 'base64')))
      throw new OperationError(`${file}: the signature by ${signer ? `the ${signer.role} signer` : `co-signer '${cosigners.get(keyid)!.participant}'`} ${keyid.slice(0, 16)}… does not verify; the bundle does not verify, nothing was signed`);
  }
  for (const s of listed.values())
    if (!seen.has(s.keyid)) throw new OperationError(`${file} lacks the signature of the ${s.role} signer ${s.keyid.slice(0, 16)}…; the bundle does not verify, nothing was signed`);

  // The files are the statement's subjects, byte for byte.
  const files = listSubjectFiles(dir);
  const subjects = new Map(statement.subject.map((s) => [s.name, s.digest?.sha256]));
  for (const name of files) {
    const want = subjects.get(name);
    if (want === undefined) throw new OperationError(`${path.join(dir, name)} is not a subject of the signed statement; the bundle does not verify, nothing was signed`);
    if (sha256Hex(readFileSync(path.join(dir, ...name.split('/')))) !== want)
      throw new OperationError(`${path.join(dir, name)} does not match its digest in the signed statement; the bundle does not verify, nothing was signed`);
  }
  for (const name of subjects.keys())
    if (!files.includes(name)) throw new OperationError(`${path.join(dir, name)} is missing, but the signed statement lists it; the bundle does not verify, nothing was signed`);

  // A record without its signature is a co-signing cut short: say so rather than refuse it later.
  const recDir = path.join(dir, COSIGNATURES_DIR);
  if (existsSync(recDir))
    for (const f of readdirSync(recDir)) {
      const keyid = f.replace(/\.json$/, '');
      if (!seen.has(keyid))
        throw new OperationError(`${path.join(recDir, f)} has no signature in ${ENVELOPE_FILE} (a co-signing cut short?); remove that file and co-sign again`);
    }
  return { dir, envelopeBytes, envelope, statement, pae: msg, cosigners };
}

/** Writes bytes to a new file ('wx', never overwriting) and fsyncs it. */
function writeExclusive(file: string, bytes: Buffer): void {
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o644);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new OperationError(`${file} already exists; a co-signature is never overwritten`);
    throw new OperationError(`cannot create ${file} (${code ?? (err as Error).message})`, { cause: err });
  }
  try {
    for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Adds a co-signature: cosignatures/<keyid>.json created exclusively (a second co-signing by the
 * same key fails here, even a concurrent one), then the envelope replaced atomically (a temporary
 * file renamed over it) with the signature appended — only if it is still the envelope that was
 * checked. When that append cannot be made, the record just created is removed again.
 */
export function appendCosignature(folder: SignedFolder, keyid: string, sig: Buffer, record: CosignatureRecord): void {
  const { dir } = folder;
  const recDir = path.join(dir, COSIGNATURES_DIR);
  try {
    // Not recursive: the folder is made here or is already there (listSubjectFiles refused a non-folder).
    mkdirSync(recDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new OperationError(`cannot create ${recDir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
  const recFile = cosignatureFile(dir, keyid);
  writeExclusive(recFile, Buffer.from(JSON.stringify(record, null, 2) + '\n', 'utf8'));
  const envFile = path.join(dir, ENVELOPE_FILE);
  // Next to the folder, not in it: a crash never leaves a file the statement does not cover.
  const tmp = path.join(path.dirname(dir), `.${path.basename(dir)}.${ENVELOPE_FILE}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    if (!readFileSync(envFile).equals(folder.envelopeBytes)) throw new OperationError(`${envFile} changed while this co-signature was being made (another co-signer?); run the command again`);
    const next: DsseEnvelope = { ...folder.envelope, signatures: [...folder.envelope.signatures, { keyid, sig: sig.toString('base64') }] };
    writeExclusive(tmp, Buffer.from(JSON.stringify(next, null, 2) + '\n', 'utf8'));
    renameSync(tmp, envFile);
    fsyncDir(dir);
  } catch (err) {
    rmSync(tmp, { force: true });
    rmSync(recFile, { force: true });
    if (err instanceof OperationError) throw err;
    throw new OperationError(`cannot write ${envFile} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); nothing was co-signed`, { cause: err });
  }
}
