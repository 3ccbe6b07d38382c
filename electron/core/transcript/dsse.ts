/**
 * The signed statement over a bundle (docs/transcript.md, transcript.dsse.json): an in-toto Statement v1 in a
 * DSSE envelope. Signers sign only DSSE's PAE, which is domain-separated, so a root key that signs
 * it can never be tricked into signing something that reads as another kind of message.
 */
import { createPublicKey, randomBytes, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { OperationError } from '../errors.ts';
import type { SignatureScheme } from '../hsm/types.ts';
import { canonicalJson, sha256Hex } from './chain.ts';

export const DSSE_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const CEREMONY_PREDICATE_TYPE = 'urn:keyrite:ceremony:v1';
export const RECOVERY_PREDICATE_TYPE = 'urn:keyrite:recovery:v1';
export const ENVELOPE_FILE = 'transcript.dsse.json';
export const TRANSCRIPT_FILE = 'transcript.jsonl';
export const RECOVERIES_DIR = 'recoveries';
/** cosignatures/<keyid>.json: one per co-signature; like the envelope, not a subject of the statement. */
export const COSIGNATURES_DIR = 'cosignatures';

export type SignerRole = 'ceremony' | 'root';

/** Something that can sign a PAE: the HSM in a ceremony, a node:crypto key in tests. */
export interface EnvelopeSigner {
  role: SignerRole;
  /** SPKI DER of the public key. */
  spki: Buffer;
  /** Signs the PAE bytes with the encoding docs/transcript.md sets for the key's type (see signatureSchemeOf). */
  sign(pae: Buffer): Buffer;
}

export interface SignerEntry {
  keyid: string;
  role: SignerRole;
  /** base64 of the SPKI DER. */
  spki: string;
}

export interface RootDescription {
  algorithm: string;
  label: string;
  /** SHA-256 hex of the root's SPKI DER (asymmetric roots). */
  publicKeySha256?: string;
  /** KCV (AES roots). */
  kcv?: string;
}

/** The predicate's required fields, before the signers are listed; add any others. */
export interface PredicateBase {
  /** For a recovery: the id of the ceremony whose key was recovered. */
  ceremonyId: string;
  chainHead: string;
  eventCount: number;
  root: RootDescription;
  [extra: string]: unknown;
}

/**
 * The statement's ceremony signer, signed once and then destroyed on the token (docs/transcript.md): after the
 * envelope is written and verified, its private and public objects are removed, so nobody holding
 * the token and its PIN can ever sign another statement with it.
 */
export interface OneTimeSigner {
  keyid: string;
  oneTime: true;
}

export interface KeyritePredicate extends PredicateBase {
  signers: SignerEntry[];
  ceremonySigner?: OneTimeSigner;
}

export interface Subject {
  name: string;
  digest: { sha256: string };
}

export interface InTotoStatement {
  _type: string;
  subject: Subject[];
  predicateType: string;
  predicate: KeyritePredicate;
}

export interface DsseSignature {
  keyid: string;
  sig: string;
}

export interface DsseEnvelope {
  payloadType: string;
  payload: string;
  signatures: DsseSignature[];
}

/** DSSE v1 pre-authentication encoding: "DSSEv1 <len(type)> <type> <len(body)> <body>", lengths in bytes. */
export function pae(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `, 'ascii'),
    type,
    Buffer.from(` ${payload.length} `, 'ascii'),
    payload,
  ]);
}

/** The statement digest (docs/transcript.md): lowercase hex SHA-256 of the envelope's decoded payload. */
export function statementDigest(envelope: { payload: string }): string {
  return sha256Hex(Buffer.from(envelope.payload, 'base64'));
}

/** keyid of a signer: lowercase hex SHA-256 of its SPKI DER. */
export function keyidOf(spkiDer: Buffer): string {
  return sha256Hex(spkiDer);
}

export function signerEntry(role: SignerRole, spki: Buffer): SignerEntry {
  return { keyid: keyidOf(spki), role, spki: spki.toString('base64') };
}

/** The docs/transcript.md signature encoding for a public key; throws for key types a bundle cannot be signed with. */
export function signatureSchemeOf(spki: Buffer | KeyObject): SignatureScheme {
  const key = Buffer.isBuffer(spki) ? createPublicKey({ key: spki, format: 'der', type: 'spki' }) : spki;
  switch (key.asymmetricKeyType) {
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      if (curve === 'secp384r1') return 'ecdsa-sha384';
      if (curve === 'prime256v1') return 'ecdsa-sha256';
      throw new Error(`unsupported EC curve ${curve}`);
    }
    case 'rsa':
      return 'rsa-pkcs1-sha256';
    case 'ed25519':
      return 'ed25519';
    default:
      throw new Error(`unsupported key type ${key.asymmetricKeyType}`);
  }
}

/** node:crypto digest name for a scheme (null for Ed25519, which hashes internally). */
function digestOf(scheme: SignatureScheme): string | null {
  return scheme === 'ecdsa-sha384' ? 'sha384' : scheme === 'ed25519' ? null : 'sha256';
}

/** Verifies a signature over `data` with the scheme implied by the SPKI. False on any defect, never throws. */
export function verifySignature(spki: Buffer | KeyObject, data: Buffer, sig: Buffer): boolean {
  try {
    const key = Buffer.isBuffer(spki) ? createPublicKey({ key: spki, format: 'der', type: 'spki' }) : spki;
    const scheme = signatureSchemeOf(key);
    if (scheme === 'rsa-pkcs1-sha256') {
      return nodeVerify('sha256', data, { key, padding: 1 /* RSA_PKCS1_PADDING */ }, sig);
    }
    return nodeVerify(digestOf(scheme), data, key, sig);
  } catch {
    return false;
  }
}

/** An EnvelopeSigner over a node:crypto private key (tests, fixtures, software rehearsals). */
export function softwareSigner(role: SignerRole, privateKey: KeyObject): EnvelopeSigner {
  const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  const scheme = signatureSchemeOf(spki);
  return {
    role,
    spki,
    sign: (data) =>
      scheme === 'rsa-pkcs1-sha256'
        ? nodeSign('sha256', data, { key: privateKey, padding: 1 })
        : nodeSign(digestOf(scheme), data, privateKey),
  };
}

export function spkiToPem(spki: Buffer): string {
  const b64 = spki.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN PUBLIC KEY-----\n${b64}\n-----END PUBLIC KEY-----\n`;
}

/**
 * The DER bytes of a "PUBLIC KEY" PEM, exactly as encoded; throws when the text is not one. It does
 * not parse the key: callers compare the bytes' SHA-256 with a keyid or a signed digest.
 */
export function spkiFromPem(pem: string): Buffer {
  const m = /^-----BEGIN PUBLIC KEY-----\r?\n((?:[A-Za-z0-9+/=]+\r?\n)+)-----END PUBLIC KEY-----\r?\n?$/.exec(pem);
  if (!m) throw new Error('not a PUBLIC KEY PEM');
  const b64 = m[1].replace(/\s+/g, '');
  if (!isCanonicalBase64(b64) || b64 === '') throw new Error('not a PUBLIC KEY PEM');
  return Buffer.from(b64, 'base64');
}

/** Writes bytes to a new file (never overwrites) and fsyncs them. */
export function writeFileExclusive(file: string, data: string | Buffer): void {
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o644);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new OperationError(`${file} already exists; it is never overwritten`);
    throw new OperationError(`cannot create ${file}: ${code ?? (err as Error).message}`, { cause: err });
  }
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes keys/<keyid>.pub.pem for a signer into a bundle (or recovery) folder; returns the keyid. */
export function writeSignerPublicKey(bundleDir: string, spki: Buffer): string {
  const keyid = keyidOf(spki);
  writeFileExclusive(path.join(bundleDir, 'keys', `${keyid}.pub.pem`), spkiToPem(spki));
  return keyid;
}

/**
 * Every file that the statement covers, sorted by name: all regular files under `bundleDir` except
 * the envelope and anything under recoveries/ and cosignatures/ (added after signing). Names are posix paths relative to the folder.
 */
export function listSubjectFiles(bundleDir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const entry of readdirSync(path.join(bundleDir, rel), { withFileTypes: true })) {
      const name = rel ? `${rel}/${entry.name}` : entry.name;
      if (name === ENVELOPE_FILE) continue;
      if (name === RECOVERIES_DIR || name === COSIGNATURES_DIR) {
        // Dirents are lstat'ed: a file or a link with one of these names is not skipped, it is refused.
        if (entry.isDirectory()) continue;
        throw new OperationError(`${path.join(bundleDir, name)} is not a folder; ${name}/ is always a folder`);
      }
      if (entry.isDirectory()) walk(name);
      else if (entry.isFile()) out.push(name);
      else throw new OperationError(`${path.join(bundleDir, name)} is not a regular file; a bundle holds only files and folders`);
    }
  };
  walk('');
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export function buildStatement(opts: { bundleDir: string; predicateType: string; predicate: KeyritePredicate }): InTotoStatement {
  const subject = listSubjectFiles(opts.bundleDir).map((name) => ({
    name,
    digest: { sha256: sha256Hex(readFileSync(path.join(opts.bundleDir, ...name.split('/')))) },
  }));
  return { _type: STATEMENT_TYPE, subject, predicateType: opts.predicateType, predicate: opts.predicate };
}

/** The envelope's payload bytes: the statement's JCS form. */
export function statementPayload(statement: InTotoStatement): Buffer {
  return Buffer.from(canonicalJson(statement), 'utf8');
}

/**
 * Signs a statement with each signer over the PAE. Every signer must be listed in
 * predicate.signers with its role. With `outFile`, writes the envelope there (never overwriting).
 */
export function signEnvelope(statement: InTotoStatement, signers: EnvelopeSigner[], outFile?: string): DsseEnvelope;
/** The same, with the output file first. */
export function signEnvelope(outFile: string, statement: InTotoStatement, signers: EnvelopeSigner[]): DsseEnvelope;
export function signEnvelope(a: InTotoStatement | string, b: EnvelopeSigner[] | InTotoStatement, c?: string | EnvelopeSigner[]): DsseEnvelope {
  return typeof a === 'string'
    ? signAndWrite(b as InTotoStatement, c as EnvelopeSigner[], a)
    : signAndWrite(a, b as EnvelopeSigner[], c as string | undefined);
}

function signAndWrite(statement: InTotoStatement, signers: EnvelopeSigner[], outFile?: string): DsseEnvelope {
  if (signers.length === 0) throw new OperationError('a transcript envelope needs at least one signer');
  const listed = new Map((statement.predicate.signers ?? []).map((s) => [s.keyid, s]));
  const payload = statementPayload(statement);
  const toSign = pae(DSSE_PAYLOAD_TYPE, payload);
  const signatures = signers.map((s) => {
    const keyid = keyidOf(s.spki);
    const entry = listed.get(keyid);
    if (!entry || entry.role !== s.role || entry.spki !== s.spki.toString('base64')) {
      throw new OperationError(`signer ${keyid} (${s.role}) is not listed in the statement's predicate.signers`);
    }
    const sig = s.sign(toSign);
    if (!verifySignature(s.spki, toSign, sig)) {
      throw new OperationError(`the ${s.role} signer ${keyid} produced a signature that does not verify`);
    }
    return { keyid, sig: sig.toString('base64') };
  });
  const envelope: DsseEnvelope = { payloadType: DSSE_PAYLOAD_TYPE, payload: payload.toString('base64'), signatures };
  if (outFile) writeEnvelope(outFile, envelope);
  return envelope;
}

/**
 * Writes the envelope all at once or not at all: the bytes go to a temporary file next to the
 * bundle folder (outside it, so never a file the statement does not cover), then are hard-linked into
 * place — which, like 'wx', never overwrites — and the temporary name removed. A crash leaves either
 * no envelope (the bundle is "completed but never signed", and `ceremony sign` can finish it with the
 * one-time signer still on the token) or the whole one, never a torn file.
 */
export function writeEnvelope(file: string, envelope: DsseEnvelope): void {
  const dir = path.dirname(file);
  const tmp = path.join(path.dirname(dir), `.${path.basename(dir)}.${ENVELOPE_FILE}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  writeFileExclusive(tmp, JSON.stringify(envelope, null, 2) + '\n');
  try {
    linkSync(tmp, file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new OperationError(`${file} already exists; it is never overwritten`);
    throw new OperationError(`cannot create ${file}: ${code ?? (err as Error).message}`, { cause: err });
  } finally {
    rmSync(tmp, { force: true });
  }
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * The last step of a ceremony or recovery: lists the signers in the predicate, hashes every file of
 * the folder into the statement, signs it and writes transcript.dsse.json. Signers' keys/<keyid>.pub.pem
 * must already be written (they are subjects too).
 */
export function signBundle(opts: {
  bundleDir: string;
  predicateType: string;
  predicate: PredicateBase;
  signers: EnvelopeSigner[];
}): { statement: InTotoStatement; envelope: DsseEnvelope; path: string } {
  const predicate: KeyritePredicate = { ...opts.predicate, signers: opts.signers.map((s) => signerEntry(s.role, s.spki)) };
  const statement = buildStatement({ bundleDir: opts.bundleDir, predicateType: opts.predicateType, predicate });
  const file = path.join(opts.bundleDir, ENVELOPE_FILE);
  const envelope = signEnvelope(statement, opts.signers, file);
  return { statement, envelope, path: file };
}

/** Whether a string is canonical base64 (what Buffer.from would silently tolerate is refused). */
export function isCanonicalBase64(s: unknown): s is string {
  return typeof s === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(s) && s.length % 4 === 0 && Buffer.from(s, 'base64').toString('base64') === s;
}

