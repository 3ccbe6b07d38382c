/**
 * The auditor's check of a bundle (SPEC §4). Every rule is a named check with a one-line detail;
 * nothing here throws on bad input: an unreadable file, malformed JSON or a wrong type becomes a
 * failed check. Recovery folders (recoveries/<time>/) are verified the same way and listed.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, type Dirent } from 'node:fs';
import path from 'node:path';
import { GENESIS_PREV_HASH, HEX64, lineHash, sha256Hex } from './chain.ts';
import {
  CEREMONY_PREDICATE_TYPE,
  DSSE_PAYLOAD_TYPE,
  ENVELOPE_FILE,
  isCanonicalBase64,
  keyidOf,
  pae,
  RECOVERIES_DIR,
  RECOVERY_PREDICATE_TYPE,
  signatureSchemeOf,
  spkiFromPem,
  STATEMENT_TYPE,
  TRANSCRIPT_FILE,
  verifySignature,
} from './dsse.ts';
import type { TranscriptEvent } from './events.ts';
import { readTranscript, type TranscriptReadResult } from './read.ts';

export interface VerifyCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface RecoveryVerifyResult {
  /** Path relative to the bundle, e.g. "recoveries/2027-03-01T10-00-00.000Z". */
  path: string;
  valid: boolean;
  complete: boolean;
  lastStep?: string;
  verdict: string;
  checks: VerifyCheck[];
}

export interface VerifyResult {
  valid: boolean;
  /** False when the ceremony stopped early (no ceremony.completed, aborted, or never signed). */
  complete: boolean;
  /** Type of the last event in the transcript. */
  lastStep?: string;
  /** "VALID", "INVALID" or "INCOMPLETE: stopped after key.generated". */
  verdict: string;
  checks: VerifyCheck[];
  recoveries: RecoveryVerifyResult[];
}

export interface VerifyOptions {
  /** keyids (lowercase hex SHA-256 of SPKI DER) that must have signed. */
  expectSigners?: string[];
}

/** Checks that can fail only because a run stopped early; the rest show tampering or damage. */
const COMPLETENESS_CHECKS = new Set([
  'events.required',
  'root.key',
  'backup.wrapped',
  'shares.confirmed',
  'backup.recovery-tested',
  'exports.files',
  'ceremony.completed',
  'recovery.completed',
  'recovery.root-key',
]);
/** Checks about the envelope; without an envelope they fail as "not signed", which is incompleteness. */
export const ENVELOPE_CHECKS: ReadonlySet<string> = new Set([
  'envelope.format',
  'statement.format',
  'signatures.verify',
  'signers.keyids',
  'signers.ceremony',
  'signers.expected',
  'subjects.digests',
  'subjects.complete',
  'statement.chain',
]);

/** What the ceremony and recovery checks share: the folder, its transcript and its envelope. */
interface FolderContext {
  dir: string;
  /** Where the folder is, for messages ("" for the bundle itself). */
  rel: string;
  transcript?: TranscriptReadResult;
  events: TranscriptEvent[];
  envelopeExists: boolean;
  envelope?: { payloadType: string; payload: Buffer; signatures: { keyid: string; sig: Buffer }[] };
  statement?: Statement;
  /** keyids whose signature verified, with their role. */
  verified: Map<string, string>;
}

interface Statement {
  subject: { name: string; sha256: string }[];
  predicateType: string;
  predicate: {
    ceremonyId: string;
    chainHead: string;
    eventCount: number;
    root: { algorithm: string; label: string; publicKeySha256?: string; kcv?: string };
    signers: { keyid: string; role: string; spki: Buffer; key: KeyObject }[];
    raw: Record<string, unknown>;
  };
}

class Checklist {
  readonly checks: VerifyCheck[] = [];
  run(name: string, fn: () => string | { ok: boolean; detail: string }): VerifyCheck {
    let check: VerifyCheck;
    try {
      const r = fn();
      check = typeof r === 'string' ? { name, ok: true, detail: r } : { name, ...r };
    } catch (err) {
      check = { name, ok: false, detail: err instanceof CheckFailure ? err.message : `could not be checked: ${oneLine((err as Error)?.message ?? String(err))}` };
    }
    this.checks.push(check);
    return check;
  }
}

class CheckFailure extends Error {}
const fail = (detail: string): never => {
  throw new CheckFailure(oneLine(detail));
};

function oneLine(s: string, max = 240): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

/** First problem plus how many more, for a detail line. */
function firstOf(problems: string[]): string {
  return problems.length === 1 ? problems[0] : `${problems[0]} (and ${problems.length - 1} more)`;
}

const short = (hex: string): string => `${hex.slice(0, 12)}…`;

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === 'string';
const isInt = (v: unknown): v is number => Number.isSafeInteger(v);

function get(obj: unknown, dotted: string): unknown {
  let cur: unknown = obj;
  for (const k of dotted.split('.')) {
    if (!isObject(cur) || !Object.prototype.hasOwnProperty.call(cur, k)) return undefined;
    cur = cur[k];
  }
  return cur;
}

const NO_LINKS = 'links in a bundle are never followed';

type EntryKind = 'file' | 'dir' | 'link' | 'other' | 'missing';

/**
 * What is at `rel` (a posix path) under `root`, looking at each part of the path with lstat: a
 * symbolic link anywhere on the way is reported as a link (at `at`), never followed.
 */
function entryAt(root: string, rel: string): { kind: EntryKind; at: string } {
  const parts = rel.split('/');
  let cur = root;
  for (let i = 0; i < parts.length; i++) {
    cur = path.join(cur, parts[i]);
    const at = parts.slice(0, i + 1).join('/');
    let st;
    try {
      st = lstatSync(cur);
    } catch {
      return { kind: 'missing', at };
    }
    if (st.isSymbolicLink()) return { kind: 'link', at };
    if (i < parts.length - 1 && !st.isDirectory()) return { kind: 'missing', at };
    if (i === parts.length - 1) return { kind: st.isFile() ? 'file' : st.isDirectory() ? 'dir' : 'other', at };
  }
  return { kind: 'missing', at: rel };
}

/** The bytes of a regular file inside `root`, or undefined (missing, a folder, or reached through a link). */
function readInside(root: string, rel: string): Buffer | undefined {
  if (entryAt(root, rel).kind !== 'file') return undefined;
  try {
    return readFileSync(path.join(root, ...rel.split('/')));
  } catch {
    return undefined;
  }
}

/** Why `rel` could not be read as a file, for a detail line ("" when it is a regular file). */
function notAFile(ctx: { rel: string }, root: string, rel: string): string {
  const e = entryAt(root, rel);
  const name = (n: string) => (ctx.rel ? `${ctx.rel}/${n}` : n);
  if (e.kind === 'file') return '';
  if (e.kind === 'link') return `${name(e.at)} is a symbolic link; ${NO_LINKS}`;
  if (e.kind === 'missing') return `${name(rel)} is missing`;
  return `${name(rel)} is not a regular file`;
}

/** A subject name must be a plain relative posix path inside the folder. */
function isSafeRelativePath(name: string): boolean {
  if (name === '' || name.startsWith('/') || name.includes('\\') || name.includes('\0')) return false;
  return name.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..');
}

// ---------------------------------------------------------------------------------------------
// Checks common to a ceremony bundle and a recovery folder

function checkTranscript(ctx: FolderContext, list: Checklist): void {
  const where = ctx.rel ? `${ctx.rel}/${TRANSCRIPT_FILE}` : TRANSCRIPT_FILE;
  const bytes = readInside(ctx.dir, TRANSCRIPT_FILE);
  const why = bytes === undefined ? notAFile(ctx, ctx.dir, TRANSCRIPT_FILE) : '';
  if (bytes !== undefined) {
    ctx.transcript = readTranscript(bytes);
    ctx.events = ctx.transcript.events;
  }
  const t = ctx.transcript;
  const of = (kind: string): string[] => (t ? t.problems.filter((p) => p.kind === kind).map((p) => `${where} ${p.detail}`) : []);
  list.run('transcript.canonical', () => {
    if (!t) fail(why.endsWith(NO_LINKS) ? why : `${where} is missing or unreadable`);
    if (t!.lines.length === 0) fail(`${where} is empty`);
    const p = of('canonical');
    if (p.length) fail(firstOf(p));
    return `${t!.lines.length} lines, each exactly the JCS form of a v1 event`;
  });
  list.run('transcript.chain', () => {
    if (!t || t.lines.length === 0) fail('no transcript to check');
    const p = of('chain');
    if (p.length) fail(firstOf(p));
    return `every prev is the hash of the line before; head ${short(t!.head)}`;
  });
  list.run('transcript.seq', () => {
    if (!t || t.lines.length === 0) fail('no transcript to check');
    const p = of('seq');
    if (p.length) fail(firstOf(p));
    return `seq runs 0..${t!.lines.length - 1} with no gaps`;
  });
  list.run('transcript.time', () => {
    if (!t || t.lines.length === 0) fail('no transcript to check');
    const p = of('time');
    if (p.length) fail(firstOf(p));
    const ev = t!.events;
    return ev.length ? `UTC RFC 3339 times from ${ev[0].time} to ${ev[ev.length - 1].time}, never decreasing` : 'no times';
  });
}

function checkEnvelope(ctx: FolderContext, list: Checklist, predicateType: string, expectSigners: string[] | undefined): void {
  const where = ctx.rel ? `${ctx.rel}/${ENVELOPE_FILE}` : ENVELOPE_FILE;
  const bytes = readInside(ctx.dir, ENVELOPE_FILE);
  // Something that is there but is not a plain file (a link, a folder) is damage, not "never signed".
  ctx.envelopeExists = entryAt(ctx.dir, ENVELOPE_FILE).kind !== 'missing';
  const unsigned = `no ${where}: the ${predicateType === CEREMONY_PREDICATE_TYPE ? 'bundle' : 'recovery'} was never signed`;

  list.run('envelope.format', () => {
    if (!bytes) fail(ctx.envelopeExists ? notAFile(ctx, ctx.dir, ENVELOPE_FILE) : unsigned);
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    } catch {
      fail(`${where} is not UTF-8 JSON`);
    }
    if (!isObject(json)) fail(`${where} is not a JSON object`);
    const e = json as Record<string, unknown>;
    const extra = Object.keys(e).filter((k) => !['payloadType', 'payload', 'signatures'].includes(k));
    if (extra.length) fail(`${where} has unknown field ${extra[0]}`);
    if (e.payloadType !== DSSE_PAYLOAD_TYPE) fail(`${where}: payloadType is not ${DSSE_PAYLOAD_TYPE}`);
    if (!isCanonicalBase64(e.payload) || e.payload === '') fail(`${where}: payload is not base64`);
    if (!Array.isArray(e.signatures) || e.signatures.length === 0) fail(`${where}: signatures is not a non-empty list`);
    const sigs = (e.signatures as unknown[]).map((s, i) => {
      if (!isObject(s)) fail(`${where}: signatures[${i}] is not an object`);
      const so = s as Record<string, unknown>;
      const bad = Object.keys(so).filter((k) => k !== 'keyid' && k !== 'sig');
      if (bad.length) fail(`${where}: signatures[${i}] has unknown field ${bad[0]}`);
      if (!isString(so.keyid) || !HEX64.test(so.keyid)) fail(`${where}: signatures[${i}].keyid is not 64 lowercase hex digits`);
      if (!isCanonicalBase64(so.sig) || so.sig === '') fail(`${where}: signatures[${i}].sig is not base64`);
      return { keyid: so.keyid as string, sig: Buffer.from(so.sig as string, 'base64') };
    });
    const dup = sigs.find((s, i) => sigs.findIndex((o) => o.keyid === s.keyid) !== i);
    if (dup) fail(`${where}: keyid ${short(dup.keyid)} signs twice`);
    ctx.envelope = { payloadType: e.payloadType as string, payload: Buffer.from(e.payload as string, 'base64'), signatures: sigs };
    return `DSSE envelope, payloadType ${DSSE_PAYLOAD_TYPE}, ${sigs.length} signature${sigs.length === 1 ? '' : 's'}`;
  });

  list.run('statement.format', () => {
    if (!ctx.envelope) fail(ctx.envelopeExists ? 'no readable envelope' : unsigned);
    ctx.statement = parseStatement(ctx.envelope!.payload, predicateType, where);
    const p = ctx.statement.predicate;
    return `in-toto Statement v1, ${predicateType}, ceremony ${p.ceremonyId}, ${ctx.statement.subject.length} subjects, ${p.signers.length} signers`;
  });

  list.run('signatures.verify', () => {
    if (!ctx.envelope || !ctx.statement) fail(ctx.envelopeExists ? 'no statement to check' : unsigned);
    const signed = pae(ctx.envelope!.payloadType, ctx.envelope!.payload);
    const listed = new Map(ctx.statement!.predicate.signers.map((s) => [s.keyid, s]));
    const done: string[] = [];
    for (const s of ctx.envelope!.signatures) {
      const signer = listed.get(s.keyid);
      if (!signer) fail(`signature by ${short(s.keyid)} is from a key not listed in predicate.signers`);
      if (!verifySignature(signer!.key, signed, s.sig)) fail(`signature by ${signer!.role} key ${short(s.keyid)} does not verify`);
      ctx.verified.set(s.keyid, signer!.role);
      done.push(`${signer!.role} ${short(s.keyid)}`);
    }
    const unsignedSigners = [...listed.keys()].filter((k) => !ctx.verified.has(k));
    if (unsignedSigners.length) fail(`listed signer ${short(unsignedSigners[0])} (${listed.get(unsignedSigners[0])!.role}) did not sign`);
    return `${done.length} signature${done.length === 1 ? '' : 's'} over the DSSE PAE verify: ${done.join(', ')}`;
  });

  list.run('signers.keyids', () => {
    if (!ctx.statement) fail(ctx.envelopeExists ? 'no statement to check' : unsigned);
    for (const s of ctx.statement!.predicate.signers) {
      if (keyidOf(s.spki) !== s.keyid) fail(`predicate signer ${short(s.keyid)}: keyid is not the SHA-256 of its spki`);
    }
    const keysLink = notAFile(ctx, ctx.dir, 'keys');
    if (keysLink.endsWith(NO_LINKS)) fail(keysLink);
    const pems = listDir(path.join(ctx.dir, 'keys')).filter((e) => e.name !== 'root.pub.pem');
    for (const e of pems) {
      const m = /^([0-9a-f]{64})\.pub\.pem$/.exec(e.name);
      if (!m) fail(`${relName(ctx, 'keys/' + e.name)} is not named <keyid>.pub.pem`);
      const pem = readInside(ctx.dir, `keys/${e.name}`);
      if (!pem) fail(notAFile(ctx, ctx.dir, `keys/${e.name}`));
      let der: Buffer;
      try {
        der = spkiFromPem(pem!.toString('utf8'));
      } catch {
        fail(`${relName(ctx, 'keys/' + e.name)} is not a PUBLIC KEY PEM`);
      }
      if (keyidOf(der!) !== m![1]) fail(`${relName(ctx, 'keys/' + e.name)} holds a key whose keyid is ${short(keyidOf(der!))}`);
    }
    for (const s of ctx.statement!.predicate.signers) {
      if (!pems.some((e) => e.name === `${s.keyid}.pub.pem`)) fail(`${relName(ctx, `keys/${s.keyid}.pub.pem`)} is missing`);
    }
    return `each signer's keyid is the SHA-256 of its SPKI and matches keys/<keyid>.pub.pem (${pems.length} file${pems.length === 1 ? '' : 's'})`;
  });

  list.run('signers.ceremony', () => {
    if (!ctx.statement) fail(ctx.envelopeExists ? 'no statement to check' : unsigned);
    const c = ctx.statement!.predicate.signers.filter((s) => s.role === 'ceremony');
    if (c.length === 0) fail('no signer has role ceremony');
    if (c.length > 1) fail(`${c.length} signers have role ceremony; expected one`);
    if (!ctx.verified.has(c[0].keyid)) fail(`the ceremony signer ${short(c[0].keyid)} has no valid signature`);
    let scheme: string;
    try {
      scheme = signatureSchemeOf(c[0].key);
    } catch {
      scheme = 'unknown';
    }
    if (scheme !== 'ecdsa-sha384') fail(`the ceremony signer ${short(c[0].keyid)} is not an EC P-384 key`);
    // The signer must be the key the transcript says was generated in the token for this run.
    const gen = ctx.events.filter((e) => e.type === 'signer.generated');
    if (gen.length === 0) fail('no signer.generated event records the ceremony signer');
    if (gen.length > 1) fail(`signer.generated appears ${gen.length} times; expected once`);
    const g = gen[0];
    const spkiOk = isCanonicalBase64(g.data.spki) && Buffer.from(g.data.spki, 'base64').equals(c[0].spki);
    if (g.data.keyid !== c[0].keyid || !spkiOk) {
      fail(`the ceremony signer ${short(c[0].keyid)} is not the key signer.generated recorded (seq ${g.seq}, ${short(String(g.data.keyid))})`);
    }
    return `ceremony signer ${c[0].keyid} (EC P-384), recorded by signer.generated (seq ${g.seq}), signed`;
  });

  list.run('signers.expected', () => {
    const want = (expectSigners ?? []).map((k) => k.trim().toLowerCase());
    if (want.length === 0) return 'no --expect-signer given';
    if (!ctx.statement) fail(ctx.envelopeExists ? 'no statement to check' : unsigned);
    for (const k of want) {
      if (!HEX64.test(k)) fail(`--expect-signer ${k} is not a keyid (64 hex digits)`);
      if (!ctx.verified.has(k)) fail(`expected signer ${short(k)} did not sign`);
    }
    return `every expected signer signed: ${want.map((k) => `${ctx.verified.get(k)} ${short(k)}`).join(', ')}`;
  });

  // Files: digests first, then coverage.
  list.run('subjects.digests', () => {
    if (!ctx.statement) fail(ctx.envelopeExists ? 'no statement to check' : unsigned);
    let n = 0;
    for (const s of ctx.statement!.subject) {
      const data = readInside(ctx.dir, s.name);
      if (data === undefined) continue; // reported by subjects.complete
      if (sha256Hex(data) !== s.sha256) fail(`${relName(ctx, s.name)} does not match its subject digest`);
      n++;
    }
    return `${n} file digest${n === 1 ? '' : 's'} match the statement`;
  });

  list.run('subjects.complete', () => {
    if (!ctx.statement) fail(ctx.envelopeExists ? 'no statement to check' : unsigned);
    const { files, others, links } = walkFolder(ctx.dir, ctx.rel === '');
    if (links.length) fail(`${relName(ctx, links[0])} is a symbolic link; ${NO_LINKS}`);
    if (others.length) fail(`${relName(ctx, others[0])} is not a regular file`);
    const names = new Set(ctx.statement!.subject.map((s) => s.name));
    const missing = [...names].filter((n) => !files.includes(n));
    if (missing.length) fail(`subject ${relName(ctx, missing[0])} does not exist`);
    const uncovered = files.filter((f) => !names.has(f));
    if (uncovered.length) fail(`${relName(ctx, uncovered[0])} is not a subject of the statement`);
    return `every file but the envelope${ctx.rel ? '' : ' and recoveries/'} is a subject, and every subject exists (${files.length} files)`;
  });

  list.run('statement.chain', () => {
    if (!ctx.statement) fail(ctx.envelopeExists ? 'no statement to check' : unsigned);
    if (!ctx.transcript) fail('no transcript to compare with');
    const p = ctx.statement!.predicate;
    if (p.chainHead !== ctx.transcript!.head) fail(`predicate chainHead ${short(p.chainHead)} is not the transcript head ${short(ctx.transcript!.head)}`);
    if (p.eventCount !== ctx.transcript!.lines.length) fail(`predicate eventCount ${p.eventCount} but the transcript has ${ctx.transcript!.lines.length} lines`);
    return `chainHead ${short(p.chainHead)} and eventCount ${p.eventCount} match the transcript`;
  });
}

function relName(ctx: FolderContext, name: string): string {
  return ctx.rel ? `${ctx.rel}/${name}` : name;
}

function listDir(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

/**
 * Every regular file under dir (posix names) but the envelope (and, in the bundle itself,
 * recoveries/, which the recoveries check covers), the symlinks found, and anything else found.
 * Dirents come from lstat, so a linked folder is listed as a link and never entered.
 */
function walkFolder(dir: string, isBundle: boolean): { files: string[]; others: string[]; links: string[] } {
  const files: string[] = [];
  const others: string[] = [];
  const links: string[] = [];
  const walk = (rel: string): void => {
    for (const e of listDir(rel ? path.join(dir, ...rel.split('/')) : dir)) {
      const name = rel ? `${rel}/${e.name}` : e.name;
      if (name === ENVELOPE_FILE || (isBundle && name === RECOVERIES_DIR)) continue;
      if (e.isSymbolicLink()) links.push(name);
      else if (e.isDirectory()) walk(name);
      else if (e.isFile()) files.push(name);
      else others.push(name);
    }
  };
  walk('');
  return { files: files.sort(), others, links };
}

function parseStatement(payload: Buffer, predicateType: string, where: string): Statement {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch {
    fail(`${where}: payload is not UTF-8 JSON`);
  }
  if (!isObject(json)) fail(`${where}: payload is not a JSON object`);
  const st = json as Record<string, unknown>;
  if (st._type !== STATEMENT_TYPE) fail(`payload _type is not ${STATEMENT_TYPE}`);
  if (st.predicateType !== predicateType) fail(`predicateType is ${JSON.stringify(st.predicateType)}, expected ${predicateType}`);
  if (!Array.isArray(st.subject) || st.subject.length === 0) fail('subject is not a non-empty list');
  const seen = new Set<string>();
  const subject = (st.subject as unknown[]).map((s, i) => {
    const name = get(s, 'name');
    const sha = get(s, 'digest.sha256');
    if (!isString(name) || !isSafeRelativePath(name)) fail(`subject[${i}].name is not a relative path inside the folder`);
    if (name === ENVELOPE_FILE || (name as string).startsWith(`${RECOVERIES_DIR}/`)) fail(`subject ${name} should not be a subject`);
    if (!isString(sha) || !HEX64.test(sha)) fail(`subject ${name}: digest.sha256 is not 64 lowercase hex digits`);
    if (seen.has(name as string)) fail(`subject ${name} is listed twice`);
    seen.add(name as string);
    return { name: name as string, sha256: sha as string };
  });
  const p = st.predicate;
  if (!isObject(p)) fail('predicate is not an object');
  const pr = p as Record<string, unknown>;
  if (!isString(pr.ceremonyId) || pr.ceremonyId === '') fail('predicate.ceremonyId is missing');
  if (!isString(pr.chainHead) || !HEX64.test(pr.chainHead)) fail('predicate.chainHead is not 64 lowercase hex digits');
  if (!isInt(pr.eventCount) || (pr.eventCount as number) < 1) fail('predicate.eventCount is not a positive integer');
  const root = pr.root;
  if (!isObject(root)) fail('predicate.root is not an object');
  const r = root as Record<string, unknown>;
  if (!isString(r.algorithm) || !isString(r.label)) fail('predicate.root needs algorithm and label');
  if (r.publicKeySha256 === undefined && r.kcv === undefined) fail('predicate.root has neither publicKeySha256 nor kcv');
  if (r.publicKeySha256 !== undefined && (!isString(r.publicKeySha256) || !HEX64.test(r.publicKeySha256))) fail('predicate.root.publicKeySha256 is not 64 lowercase hex digits');
  if (r.kcv !== undefined && (!isString(r.kcv) || !/^[0-9a-f]{6}$/.test(r.kcv))) fail('predicate.root.kcv is not 6 lowercase hex digits');
  if (!Array.isArray(pr.signers) || pr.signers.length === 0) fail('predicate.signers is not a non-empty list');
  const signers = (pr.signers as unknown[]).map((s, i) => {
    if (!isObject(s)) fail(`predicate.signers[${i}] is not an object`);
    const so = s as Record<string, unknown>;
    if (!isString(so.keyid) || !HEX64.test(so.keyid)) fail(`predicate.signers[${i}].keyid is not 64 lowercase hex digits`);
    if (so.role !== 'ceremony' && so.role !== 'root') fail(`predicate.signers[${i}].role is not ceremony or root`);
    if (!isCanonicalBase64(so.spki) || so.spki === '') fail(`predicate.signers[${i}].spki is not base64`);
    const spki = Buffer.from(so.spki as string, 'base64');
    let key: KeyObject;
    try {
      key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
    } catch {
      fail(`predicate.signers[${i}].spki is not an SPKI public key`);
    }
    return { keyid: so.keyid as string, role: so.role as string, spki, key: key! };
  });
  if (new Set(signers.map((s) => s.keyid)).size !== signers.length) fail('predicate.signers lists a key twice');
  return {
    subject,
    predicateType: st.predicateType as string,
    predicate: {
      ceremonyId: pr.ceremonyId as string,
      chainHead: pr.chainHead as string,
      eventCount: pr.eventCount as number,
      root: { algorithm: r.algorithm as string, label: r.label as string, publicKeySha256: r.publicKeySha256 as string | undefined, kcv: r.kcv as string | undefined },
      signers,
      raw: pr,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The ceremony bundle

/** Required events (SPEC §3) and the data fields each must have; "a|b" means either. */
const REQUIRED_EVENTS: Record<string, string[]> = {
  'ceremony.started': ['ceremonyId', 'planSha256', 'app.name', 'app.version', 'host.platform', 'host.arch', 'host.networkInterfaces'],
  'hsm.selected': [
    'module.path', 'module.sha256', 'module.manufacturer', 'module.library',
    'token.label', 'token.manufacturer', 'token.model', 'token.serialNumber', 'token.firmware', 'mechanisms',
  ],
  'key.generated': ['label', 'id', 'algorithm', 'attributes', 'publicKey.spki|kcv'],
  'backup.split': ['scheme', 'identifier', 'extendable', 'iterationExponent', 'groupThreshold', 'groups', 'kekKcv', 'passphrase', 'shares'],
  'backup.wrapped': ['mechanism', 'wrapped', 'sha256'],
  'share.confirmed': ['group', 'member', 'custodian', 'checkValue'],
  'backup.recovery-tested': ['shares', 'ok'],
  'ceremony.completed': ['chainHead'],
};
/** Fields required whenever an event of the type appears, though the event itself may not. */
const OPTIONAL_EVENTS: Record<string, string[]> = {
  'export.created': ['target', 'kind', 'algorithm', 'wrappingKeySha256', 'files'],
};

function missingFields(ev: TranscriptEvent, fields: string[]): string[] {
  return fields.filter((f) => !f.split('|').some((alt) => get(ev.data, alt) !== undefined));
}

/** Verifies a ceremony bundle folder; never throws. */
export function verifyBundle(dir: string, opts: VerifyOptions = {}): VerifyResult {
  const list = new Checklist();
  const ctx: FolderContext = { dir, rel: '', events: [], envelopeExists: false, verified: new Map() };
  const byType = (t: string) => ctx.events.filter((e) => e.type === t);

  checkTranscript(ctx, list);
  checkEnvelope(ctx, list, CEREMONY_PREDICATE_TYPE, opts.expectSigners);

  let ceremonyId: string | undefined;
  list.run('ceremony.id', () => {
    const first = ctx.events[0];
    if (!first || first.seq !== 0 || first.type !== 'ceremony.started') fail('the first event is not ceremony.started');
    if (byType('ceremony.started').length !== 1) fail('ceremony.started appears more than once');
    const id = first.data.ceremonyId;
    if (!isString(id)) fail('ceremony.started has no ceremonyId');
    ceremonyId = id as string;
    const plan = readPlan(dir);
    if (plan.json === undefined) fail(plan.error!);
    if (get(plan.json, 'id') !== id) fail(`plan.json id ${JSON.stringify(get(plan.json, 'id'))} is not the transcript's ceremony ${id}`);
    if (ctx.statement && ctx.statement.predicate.ceremonyId !== id) fail(`the statement names ceremony ${ctx.statement.predicate.ceremonyId}, the transcript ${id}`);
    return `ceremony ${id} in plan.json, ceremony.started${ctx.statement ? ' and the statement' : ''}`;
  });

  list.run('events.required', () => {
    const problems: string[] = [];
    for (const [type, fields] of Object.entries(REQUIRED_EVENTS)) {
      const evs = byType(type);
      if (evs.length === 0) problems.push(`no ${type} event`);
      for (const ev of evs) {
        const miss = missingFields(ev, fields);
        if (miss.length) problems.push(`${type} (seq ${ev.seq}) lacks data.${miss[0].replace('|', ' or data.')}`);
      }
    }
    for (const [type, fields] of Object.entries(OPTIONAL_EVENTS)) {
      for (const ev of byType(type)) {
        const miss = missingFields(ev, fields);
        if (miss.length) problems.push(`${type} (seq ${ev.seq}) lacks data.${miss[0]}`);
      }
    }
    if (byType('key.generated').length > 1) problems.push('key.generated appears more than once');
    if (problems.length) fail(firstOf(problems));
    return `every required event is present with its required data (${Object.keys(REQUIRED_EVENTS).length} types)`;
  });

  list.run('plan.sha256', () => {
    const started = byType('ceremony.started')[0];
    if (!started) fail('no ceremony.started event');
    const bytes = readInside(dir, 'plan.json');
    if (!bytes) fail(notAFile(ctx, dir, 'plan.json'));
    const want = started.data.planSha256;
    if (sha256Hex(bytes!) !== want) fail(`plan.json's SHA-256 is not ceremony.started's planSha256`);
    return `plan.json SHA-256 ${short(want as string)} matches ceremony.started`;
  });

  list.run('root.key', () => checkRootKey(ctx, byType('key.generated')));

  list.run('backup.wrapped', () => {
    const ev = byType('backup.wrapped');
    if (ev.length !== 1) fail(ev.length ? 'backup.wrapped appears more than once' : 'no backup.wrapped event');
    const file = readInside(dir, 'backup/root.wrapped');
    if (!file) fail(notAFile(ctx, dir, 'backup/root.wrapped'));
    if (sha256Hex(file!) !== ev[0].data.sha256) fail('backup/root.wrapped does not match backup.wrapped sha256');
    if (!isString(ev[0].data.wrapped) || !isCanonicalBase64(ev[0].data.wrapped) || !Buffer.from(ev[0].data.wrapped, 'base64').equals(file!)) {
      fail('backup.wrapped data.wrapped is not the base64 of backup/root.wrapped');
    }
    return `backup/root.wrapped (${file!.length} bytes) matches the backup.wrapped event`;
  });

  list.run('shares.confirmed', () => {
    const split = byType('backup.split');
    if (split.length !== 1) fail(split.length ? 'backup.split appears more than once' : 'no backup.split event');
    const shares = split[0].data.shares;
    if (!Array.isArray(shares) || shares.length === 0) fail('backup.split lists no shares');
    const confirmed = byType('share.confirmed');
    for (const s of shares as unknown[]) {
      const g = get(s, 'group');
      const m = get(s, 'member');
      const c = confirmed.find((e) => e.data.group === g && e.data.member === m);
      if (!c) fail(`share group ${g} member ${m} (${String(get(s, 'custodian'))}) has no share.confirmed`);
      if (c!.data.checkValue !== get(s, 'checkValue') || c!.data.custodian !== get(s, 'custodian')) {
        fail(`share group ${g} member ${m}: share.confirmed (seq ${c!.seq}) does not match backup.split's custodian and check value`);
      }
    }
    const split0 = split[0];
    const early = confirmed.find((e) => e.seq < split0.seq);
    if (early) fail(`share.confirmed (seq ${early.seq}) comes before backup.split`);
    return `all ${(shares as unknown[]).length} shares of backup.split were confirmed`;
  });

  list.run('backup.recovery-tested', () => {
    const oks = byType('backup.recovery-tested').filter((e) => e.data.ok === true);
    if (oks.length === 0) fail('no backup.recovery-tested event with ok true');
    const split = byType('backup.split')[0];
    if (!split) fail('no backup.split to check the recovery test against');
    const lastConfirmed = byType('share.confirmed').at(-1);
    // Any successful test that came after every confirmation and used a threshold set will do.
    let problem = '';
    for (const ev of oks) {
      problem = lastConfirmed && ev.seq < lastConfirmed.seq
        ? `backup.recovery-tested (seq ${ev.seq}) comes before the last share.confirmed (seq ${lastConfirmed.seq})`
        : thresholdProblem(ev, split!);
      if (!problem) {
        const used = (ev.data.shares as unknown[]).length;
        return `recovery tested successfully with a threshold set of ${used} share${used === 1 ? '' : 's'} after every confirmation (seq ${ev.seq})`;
      }
    }
    return fail(problem);
  });

  list.run('exports.files', () => checkExports(dir, byType('export.created')));

  list.run('ceremony.completed', () => {
    const events = ctx.events;
    const t = ctx.transcript;
    const aborted = byType('ceremony.aborted')[0];
    if (aborted) fail(`ceremony.aborted at seq ${aborted.seq}: ${oneLine(String(aborted.data.reason ?? ''), 160)}`);
    const done = byType('ceremony.completed');
    if (done.length === 0) fail(`no ceremony.completed; stopped after ${events.at(-1)?.type ?? 'nothing'}`);
    if (done.length > 1) fail('ceremony.completed appears more than once');
    const last = events.at(-1)!;
    if (last.type !== 'ceremony.completed' || !t || last.seq !== t.lines.length - 1) fail(`ceremony.completed (seq ${done[0].seq}) is not the last event`);
    const before = last.seq === 0 ? GENESIS_PREV_HASH : lineHash(t!.lines[last.seq - 1]);
    if (last.data.chainHead !== before) fail('ceremony.completed chainHead is not the hash of the event before it');
    if (last.data.eventCount !== undefined && last.data.eventCount !== last.seq) fail(`ceremony.completed eventCount ${String(last.data.eventCount)} but ${last.seq} events precede it`);
    return `ceremony.completed is last (seq ${last.seq}) and its chainHead is the head before it`;
  });

  const recoveries = verifyRecoveries(dir, ceremonyId ?? ctx.statement?.predicate.ceremonyId, ctx.statement?.predicate.root ?? rootFromEvents(byType('key.generated')[0]));
  list.run('recoveries', () => {
    if (recoveries.problems.length) fail(recoveries.problems[0]);
    const rs = recoveries.results;
    if (rs.length === 0) return 'no recoveries/';
    const broken = rs.find((r) => r.verdict === 'INVALID');
    if (broken) fail(`${broken.path} is not valid: ${broken.checks.find((c) => !c.ok)!.detail}`);
    const incomplete = rs.filter((r) => !r.complete).length;
    return `${rs.length} recover${rs.length === 1 ? 'y' : 'ies'} verified${incomplete ? `, ${incomplete} stopped early (incomplete)` : ''}`;
  });

  return conclude(list.checks, ctx, 'ceremony.completed', 'ceremony.aborted', recoveries.results);
}

/** Why a recovery test's `shares` are not a threshold set of backup.split's shares ("" when they are). */
function thresholdProblem(ev: TranscriptEvent, split: TranscriptEvent): string {
  const at = `backup.recovery-tested (seq ${ev.seq})`;
  const groups = split.data.groups;
  const groupThreshold = split.data.groupThreshold;
  const made = split.data.shares;
  if (!Array.isArray(groups) || !isInt(groupThreshold) || !Array.isArray(made)) return 'backup.split has no usable groups, groupThreshold and shares';
  const shares = ev.data.shares;
  if (!Array.isArray(shares) || shares.some((u) => !isInt(get(u, 'group')) || !isInt(get(u, 'member')))) return `${at} shares is not a list of {group, member}`;
  const byGroup = new Map<number, Set<number>>();
  for (const u of shares as unknown[]) {
    const g = get(u, 'group') as number;
    const m = get(u, 'member') as number;
    if (!(made as unknown[]).some((s) => get(s, 'group') === g && get(s, 'member') === m)) return `${at}: group ${g} member ${m} is not a share of backup.split`;
    const set = byGroup.get(g) ?? new Set<number>();
    if (set.has(m)) return `${at} lists group ${g} member ${m} twice`;
    byGroup.set(g, set.add(m));
  }
  const shortOf: string[] = [];
  let met = 0;
  for (const [g, members] of [...byGroup].sort((a, b) => a[0] - b[0])) {
    const t = get((groups as unknown[])[g - 1], 'threshold');
    if (!isInt(t)) return `backup.split has no threshold for group ${g}`;
    if (members.size >= (t as number)) met++;
    else shortOf.push(`used ${members.size} of group ${g}'s threshold ${t}`);
  }
  if (met >= (groupThreshold as number)) return '';
  return `${at} did not use a threshold set: ${met} group${met === 1 ? '' : 's'} met ${met === 1 ? 'its' : 'their'} threshold; backup.split needs ${groupThreshold}${shortOf.length ? ` (${shortOf.join(', ')})` : ''}`;
}

function rootFromEvents(ev: TranscriptEvent | undefined): Statement['predicate']['root'] | undefined {
  if (!ev) return undefined;
  return {
    algorithm: String(ev.data.algorithm),
    label: String(ev.data.label),
    publicKeySha256: get(ev.data, 'publicKey.sha256') as string | undefined,
    kcv: get(ev.data, 'kcv') as string | undefined,
  };
}

function checkRootKey(ctx: FolderContext, generated: TranscriptEvent[]): { ok: boolean; detail: string } {
  if (generated.length === 0) fail('no key.generated event');
  const ev = generated[0];
  const d = ev.data;
  const root = ctx.statement?.predicate.root;
  const pem = readInside(ctx.dir, 'keys/root.pub.pem');
  const pemLink = notAFile(ctx, ctx.dir, 'keys/root.pub.pem');
  if (pemLink.endsWith(NO_LINKS)) fail(pemLink);
  if (root) {
    if (root.algorithm !== d.algorithm) fail(`predicate root algorithm ${root.algorithm} is not key.generated's ${String(d.algorithm)}`);
    if (root.label !== d.label) fail(`predicate root label is not key.generated's label`);
  }
  if (d.publicKey !== undefined) {
    const spkiB64 = get(d, 'publicKey.spki');
    if (!isCanonicalBase64(spkiB64)) fail('key.generated publicKey.spki is not base64');
    const spkiHash = sha256Hex(Buffer.from(spkiB64 as string, 'base64'));
    if (get(d, 'publicKey.sha256') !== spkiHash) fail('key.generated publicKey.sha256 is not the SHA-256 of its spki');
    if (!pem) fail('keys/root.pub.pem is missing');
    let der: Buffer;
    try {
      der = spkiFromPem(pem!.toString('utf8'));
    } catch {
      fail('keys/root.pub.pem is not a PUBLIC KEY PEM');
    }
    if (sha256Hex(der!) !== spkiHash) fail('keys/root.pub.pem is not the key in key.generated');
    if (root) {
      if (root.publicKeySha256 !== spkiHash) fail('predicate root publicKeySha256 does not match keys/root.pub.pem and key.generated');
      requireRootSignature(ctx, spkiHash, 'the root key');
    }
    return { ok: true, detail: `root ${String(d.algorithm)} key ${short(spkiHash)}: keys/root.pub.pem, key.generated${root ? ' and the statement' : ''} agree` };
  }
  if (d.kcv !== undefined) {
    if (!isString(d.kcv) || !/^[0-9a-f]{6}$/.test(d.kcv)) fail('key.generated kcv is not 6 lowercase hex digits');
    if (root && root.kcv !== d.kcv) fail('predicate root kcv does not match key.generated');
    if (root && ctx.statement!.predicate.signers.some((s) => s.role === 'root')) fail('a symmetric root cannot be a signer');
    if (pem) fail('keys/root.pub.pem exists but the root is a symmetric key');
    return { ok: true, detail: `root ${String(d.algorithm)} KCV ${d.kcv}: key.generated${root ? ' and the statement' : ''} agree` };
  }
  return fail('key.generated has neither publicKey nor kcv');
}

/**
 * A root that can sign signs the statement itself (SPEC §3, role root): one root signer, that key,
 * with a signature in the envelope. Whether the signature verifies is signatures.verify's check,
 * which also fails when any listed signer did not sign.
 */
function requireRootSignature(ctx: FolderContext, spkiHash: string, what: string): void {
  const roots = ctx.statement!.predicate.signers.filter((s) => s.role === 'root');
  if (roots.length > 1) fail(`${roots.length} signers have role root; expected one`);
  if (roots[0] && roots[0].keyid !== spkiHash) fail(`the root signer ${short(roots[0].keyid)} is not ${what}`);
  if (!roots[0] || !ctx.envelope?.signatures.some((s) => s.keyid === spkiHash)) fail(`${what} ${short(spkiHash)} did not sign the statement (role root)`);
}

function checkExports(dir: string, created: TranscriptEvent[]): string {
  const plan = readPlan(dir);
  const planned = Array.isArray(get(plan.json, 'exports')) ? (get(plan.json, 'exports') as unknown[]).map((e) => get(e, 'name')) : [];
  for (const name of planned) {
    if (!created.some((e) => e.data.target === name)) fail(`planned export ${String(name)} has no export.created event`);
  }
  let n = 0;
  for (const ev of created) {
    const files = ev.data.files;
    if (!Array.isArray(files)) fail(`export.created ${String(ev.data.target)} has no files list`);
    for (const f of files as unknown[]) {
      const p = get(f, 'path');
      if (!isString(p) || !isSafeRelativePath(p)) fail(`export.created ${String(ev.data.target)}: a file path is not a relative path`);
      // Paths are relative to the bundle; accept ones relative to exports/<target>/ too.
      const candidates = [p as string, `exports/${String(ev.data.target)}/${p}`];
      const data = candidates.map((c) => readInside(dir, c)).find((b) => b !== undefined);
      if (!data) fail(`export ${String(ev.data.target)}: ${p} is missing`);
      if (sha256Hex(data!) !== get(f, 'sha256')) fail(`export ${String(ev.data.target)}: ${p} does not match export.created's sha256`);
      n++;
    }
  }
  return created.length ? `${created.length} export${created.length === 1 ? "" : "s"}, ${n} file${n === 1 ? "" : "s"} match their export.created events` : 'no exports planned or made';
}

function readPlan(dir: string): { json?: unknown; error?: string } {
  const bytes = readInside(dir, 'plan.json');
  if (!bytes) return { error: notAFile({ rel: '' }, dir, 'plan.json') };
  try {
    return { json: JSON.parse(bytes.toString('utf8')) };
  } catch {
    return { error: 'plan.json is not JSON' };
  }
}

/** Turns the checklist into a verdict. */
function conclude(
  checks: VerifyCheck[],
  ctx: FolderContext,
  completedType: string,
  abortedType: string,
  recoveries: RecoveryVerifyResult[],
): VerifyResult {
  const events = ctx.events;
  const lastStep = events.at(-1)?.type;
  const aborted = events.find((e) => e.type === abortedType);
  const complete = ctx.envelopeExists && !aborted && lastStep === completedType;
  const allOk = checks.every((c) => c.ok);
  if (complete || !ctx.transcript || ctx.transcript.lines.length === 0) {
    return { valid: complete && allOk, complete, lastStep, verdict: complete && allOk ? 'VALID' : 'INVALID', checks, recoveries };
  }
  // Stopped early: INCOMPLETE unless something shows tampering or damage.
  const damaged =
    checks.some((c) => !c.ok && !COMPLETENESS_CHECKS.has(c.name) && !(ENVELOPE_CHECKS.has(c.name) && !ctx.envelopeExists)) ||
    // Events after the completion event are not a run that stopped early.
    (events.some((e) => e.type === completedType) && lastStep !== completedType);
  const before = aborted ? events[aborted.seq - 1]?.type ?? 'nothing' : lastStep;
  const why = aborted
    ? abortedWhy(String(aborted.data.step ?? ''), before ?? 'nothing', String(aborted.data.reason ?? 'no reason given'))
    : !ctx.envelopeExists && lastStep === completedType
      ? 'completed but never signed'
      : `stopped after ${lastStep}`;
  return { valid: false, complete: false, lastStep, verdict: damaged ? 'INVALID' : `INCOMPLETE: ${why}`, checks, recoveries };
}

/** The step named as the transcript names it (ceremony.aborted.data.step), the words `status` uses too. */
function abortedWhy(step: string, before: string, reason: string): string {
  const at = step ? `aborted at step '${oneLine(step, 40)}'${step === before ? '' : ` (after ${before})`}` : `aborted after ${before}`;
  return `${at}: ${oneLine(reason, 160)}`;
}

// ---------------------------------------------------------------------------------------------
// Recoveries: BUNDLE/recoveries/<time>/, each with its own transcript and envelope

function verifyRecoveries(
  dir: string,
  ceremonyId: string | undefined,
  root: Statement['predicate']['root'] | undefined,
): { results: RecoveryVerifyResult[]; problems: string[] } {
  const results: RecoveryVerifyResult[] = [];
  const problems: string[] = [];
  // lstat, not stat: a recoveries that is a file, or a link to a folder elsewhere, is never read.
  const kind = entryAt(dir, RECOVERIES_DIR).kind;
  if (kind === 'missing') return { results, problems };
  if (kind === 'link') return { results, problems: [`${RECOVERIES_DIR} is a symbolic link; ${NO_LINKS}`] };
  if (kind !== 'dir') return { results, problems: [`${RECOVERIES_DIR} is not a folder`] };
  const base = path.join(dir, RECOVERIES_DIR);
  const entries = listDir(base).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const rel = `${RECOVERIES_DIR}/${e.name}`;
    if (e.isSymbolicLink()) problems.push(`${rel} is a symbolic link; ${NO_LINKS}`);
    else if (!e.isDirectory()) problems.push(`${rel} is not a recovery folder`);
    else results.push(verifyRecovery(path.join(base, e.name), rel, ceremonyId, root));
  }
  return { results, problems };
}

/** Verifies one recovery folder against the ceremony it recovered; never throws. */
export function verifyRecovery(
  dir: string,
  rel: string,
  ceremonyId: string | undefined,
  root: { algorithm: string; label: string; publicKeySha256?: string; kcv?: string } | undefined,
): RecoveryVerifyResult {
  const list = new Checklist();
  const ctx: FolderContext = { dir, rel, events: [], envelopeExists: false, verified: new Map() };
  checkTranscript(ctx, list);
  checkEnvelope(ctx, list, RECOVERY_PREDICATE_TYPE, undefined);

  list.run('recovery.ceremony-id', () => {
    if (!ceremonyId) fail('the bundle names no ceremony to compare with');
    const first = ctx.events[0];
    if (!first || first.seq !== 0 || first.type !== 'recovery.started') fail('the first event is not recovery.started');
    const wrong = ctx.events.find((e) => e.data.ceremonyId !== undefined && e.data.ceremonyId !== ceremonyId);
    if (first.data.ceremonyId !== ceremonyId) fail(`recovery.started names ceremony ${String(first.data.ceremonyId)}, not ${ceremonyId}`);
    if (wrong) fail(`${wrong.type} (seq ${wrong.seq}) names ceremony ${String(wrong.data.ceremonyId)}, not ${ceremonyId}`);
    if (ctx.statement && ctx.statement.predicate.ceremonyId !== ceremonyId) fail(`the statement names ceremony ${ctx.statement.predicate.ceremonyId}, not ${ceremonyId}`);
    return `recovery of ceremony ${ceremonyId}`;
  });

  list.run('recovery.root-key', () => {
    if (!root) fail('the bundle has no root key to compare with');
    const want = root!.publicKeySha256 ?? root!.kcv;
    const recovered = ctx.events.filter((e) => e.type === 'key.recovered');
    if (recovered.length === 0) fail('no key.recovered event');
    for (const ev of recovered) {
      const got = root!.publicKeySha256 !== undefined ? get(ev.data, 'publicKey.sha256') : get(ev.data, 'kcv');
      if (got !== want) fail(`key.recovered (seq ${ev.seq}) is not the ceremony's root key`);
    }
    const p = ctx.statement?.predicate.root;
    if (p && (p.publicKeySha256 !== root!.publicKeySha256 || p.kcv !== root!.kcv)) fail("the statement's root is not the ceremony's root key");
    const rootSigner = ctx.statement?.predicate.signers.find((s) => s.role === 'root');
    if (ctx.statement && root!.publicKeySha256 !== undefined) requireRootSignature(ctx, root!.publicKeySha256, "the ceremony's root key");
    else if (rootSigner) fail('a symmetric root cannot be a signer');
    return `the recovered key is the ceremony's root (${short(want!)})${rootSigner ? ', and it signed' : ''}`;
  });

  list.run('recovery.completed', () => {
    const t = ctx.transcript;
    const aborted = ctx.events.find((e) => e.type === 'recovery.aborted');
    if (aborted) fail(`recovery.aborted at seq ${aborted.seq}: ${oneLine(String(aborted.data.reason ?? ''), 160)}`);
    const last = ctx.events.at(-1);
    if (!last || last.type !== 'recovery.completed' || !t || last.seq !== t.lines.length - 1) fail(`recovery.completed is not the last event; stopped after ${last?.type ?? 'nothing'}`);
    if (ctx.events.filter((e) => e.type === 'recovery.completed').length > 1) fail('recovery.completed appears more than once');
    const before = last!.seq === 0 ? GENESIS_PREV_HASH : lineHash(t!.lines[last!.seq - 1]);
    if (last!.data.chainHead !== before) fail('recovery.completed chainHead is not the hash of the event before it');
    return `recovery.completed is last (seq ${last!.seq}) and its chainHead is the head before it`;
  });

  const r = conclude(list.checks, ctx, 'recovery.completed', 'recovery.aborted', []);
  return { path: rel, valid: r.valid, complete: r.complete, lastStep: r.lastStep, verdict: r.verdict, checks: r.checks };
}

/** The first failed check as one line, for error messages. */
export function firstFailure(result: { checks: VerifyCheck[] }): string | undefined {
  const c = result.checks.find((x) => !x.ok);
  return c ? `${c.name}: ${c.detail}` : undefined;
}
