/**
 * The envelope and its signatures (docs/transcript.md, transcript.dsse.json): a DSSE envelope whose payload is
 * an in-toto Statement; every listed signer signed the PAE; the signers are the keys the transcript
 * and keys/ say they are; the ceremony signer was one-time; and whatever the caller expects
 * (signers, the statement digest) holds. Co-signatures (signatures by unlisted keys) are cosign.ts's.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import path from 'node:path';
import { HEX64, sha256Hex } from '../transcript/chain.ts';
import {
  DSSE_PAYLOAD_TYPE,
  ENVELOPE_FILE,
  isCanonicalBase64,
  keyidOf,
  pae,
  signatureSchemeOf,
  spkiFromPem,
  STATEMENT_TYPE,
  verifySignature,
} from '../transcript/dsse.ts';
import { fail, get, isInt, isObject, isString, plural, short, skipped, type Checklist } from './checklist.ts';
import { eventsOf, type FolderContext, type Statement } from './context.ts';
import { entryAt, isOutsideStatement, isSafeRelativePath, listDir, NO_LINKS, notAFile, readInside, relName } from './folder.ts';

export interface EnvelopeExpectations {
  /** keyids that must have signed (--expect-signer, policy signers). */
  signers: string[];
  /** statement digests the payload must have (--expect-statement, policy statementSha256). */
  statements: { sha256: string; from: string }[];
}

/** The line every envelope check gives when there is no envelope: the folder was never signed. */
export function unsignedLine(ctx: FolderContext, isBundle: boolean): string {
  return `no ${relName(ctx, ENVELOPE_FILE)}: the ${isBundle ? 'bundle' : 'recovery'} was never signed`;
}

/** Reads the envelope into ctx and runs the envelope and listed-signer checks. */
export function checkEnvelope(ctx: FolderContext, list: Checklist, predicateType: string, isBundle: boolean): void {
  const where = relName(ctx, ENVELOPE_FILE);
  const bytes = readInside(ctx.dir, ENVELOPE_FILE);
  // Something that is there but is not a plain file (a link, a folder) is damage, not "never signed".
  ctx.envelopeExists = entryAt(ctx.dir, ENVELOPE_FILE).kind !== 'missing';
  const unsigned = unsignedLine(ctx, isBundle);
  const needStatement = (): void => {
    if (!ctx.statement) fail(ctx.envelopeExists ? 'no statement to check' : unsigned);
  };

  /** envelope.format: the file is a DSSE envelope with exactly payloadType, payload and signatures; canonical base64; no keyid twice. */
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
    ctx.statementSha256 = sha256Hex(ctx.envelope.payload);
    return `DSSE envelope, payloadType ${DSSE_PAYLOAD_TYPE}, ${plural(sigs.length, 'signature')}`;
  });

  /** statement.format: the payload is an in-toto Statement v1 of this predicate type, with safe subject names and every required predicate field. */
  list.run('statement.format', () => {
    if (!ctx.envelope) fail(ctx.envelopeExists ? 'no readable envelope' : unsigned);
    ctx.statement = parseStatement(ctx.envelope!.payload, predicateType, where);
    const p = ctx.statement.predicate;
    return `in-toto Statement v1, ${predicateType}, ceremony ${p.ceremonyId}, ${ctx.statement.subject.length} subjects, ${plural(p.signers.length, 'signer')}; statement digest ${ctx.statementSha256}`;
  });

  /** signatures.verify: every signer listed in the predicate signed, and each such signature verifies over the DSSE PAE. */
  list.run('signatures.verify', () => {
    needStatement();
    const signed = pae(ctx.envelope!.payloadType, ctx.envelope!.payload);
    const done: string[] = [];
    for (const signer of ctx.statement!.predicate.signers) {
      const s = ctx.envelope!.signatures.find((x) => x.keyid === signer.keyid);
      if (!s) fail(`listed signer ${short(signer.keyid)} (${signer.role}) did not sign`);
      if (!verifySignature(signer.key, signed, s!.sig)) fail(`signature by ${signer.role} key ${short(signer.keyid)} does not verify`);
      ctx.verified.set(signer.keyid, signer.role);
      done.push(`${signer.role} ${short(signer.keyid)}`);
    }
    const others = ctx.envelope!.signatures.length - done.length;
    return `${plural(done.length, 'signature')} over the DSSE PAE verify: ${done.join(', ')}${others ? ` (${plural(others, 'co-signature')}: see cosignatures)` : ''}`;
  });

  /** signers.keyids: each listed signer's keyid is the SHA-256 of its SPKI, and keys/<keyid>.pub.pem holds exactly that key for every signer. */
  list.run('signers.keyids', () => {
    needStatement();
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
    return `each signer's keyid is the SHA-256 of its SPKI and matches keys/<keyid>.pub.pem (${plural(pems.length, 'file')})`;
  });

  /** signers.ceremony: one EC P-384 signer has role ceremony, it signed, and it is the key of the transcript's one signer.generated event. */
  list.run('signers.ceremony', () => {
    needStatement();
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
    // EC P-384, or the fallback hsm.selected records for a token without it (P-256, RSA >= 3072 bits).
    const fallback = signerFallbackOf(eventsOf(ctx, 'hsm.selected')[0]?.data);
    const allowed = scheme === 'ecdsa-sha384' || (fallback && (scheme === 'ecdsa-sha256' || (scheme === 'rsa-pkcs1-sha256' && rsaBits(c[0].key) >= 3072)));
    if (!allowed) fail(`the ceremony signer ${short(c[0].keyid)} is not an EC P-384 key${fallback ? ', nor the P-256 or RSA-3072 fallback hsm.selected records' : ''}`);
    const gen = eventsOf(ctx, 'signer.generated');
    if (gen.length === 0) fail('no signer.generated event records the ceremony signer');
    if (gen.length > 1) fail(`signer.generated appears ${gen.length} times; expected once`);
    const g = gen[0];
    const spkiOk = isCanonicalBase64(g.data.spki) && Buffer.from(g.data.spki, 'base64').equals(c[0].spki);
    if (g.data.keyid !== c[0].keyid || !spkiOk) {
      fail(`the ceremony signer ${short(c[0].keyid)} is not the key signer.generated recorded (seq ${g.seq}, ${short(String(g.data.keyid))})`);
    }
    const kind = scheme === 'ecdsa-sha384' ? 'EC P-384' : scheme === 'ecdsa-sha256' ? 'EC P-256, the fallback hsm.selected records' : 'RSA, the fallback hsm.selected records';
    return `ceremony signer ${c[0].keyid} (${kind}), recorded by signer.generated (seq ${g.seq}), signed`;
  });

  /**
   * signer.one-time: the predicate says the ceremony signer signs once and is destroyed right after
   * (ceremonySigner {keyid, oneTime: true}, naming the role-ceremony signer). Older bundles lack it:
   * skipped, with a warning, since their signer may still exist on the token.
   */
  list.run('signer.one-time', () => {
    needStatement();
    const cs = ctx.statement!.predicate.raw.ceremonySigner;
    if (cs === undefined) return skipped('the statement has no ceremonySigner: it does not say the ceremony signer was destroyed after signing');
    const keyid = get(cs, 'keyid');
    if (!isString(keyid) || !HEX64.test(keyid)) fail('predicate.ceremonySigner is not {keyid, oneTime}');
    if (get(cs, 'oneTime') !== true) fail('predicate.ceremonySigner.oneTime is not true');
    const ceremony = ctx.statement!.predicate.signers.find((s) => s.role === 'ceremony');
    if (!ceremony || ceremony.keyid !== keyid) fail(`predicate.ceremonySigner ${short(keyid as string)} is not the role-ceremony signer`);
    return `the ceremony signer ${short(keyid as string)} was one-time: destroyed on the token after signing`;
  });
}

/** What the caller holds from a trusted record: run after the co-signatures are known (an expected key may be a co-signer). */
export function checkExpectations(ctx: FolderContext, list: Checklist, isBundle: boolean, expect?: EnvelopeExpectations): void {
  const unsigned = unsignedLine(ctx, isBundle);
  const needStatement = (): void => {
    if (!ctx.statement) fail(ctx.envelopeExists ? 'no statement to check' : unsigned);
  };

  /** signers.expected: every keyid the caller expects (--expect-signer, policy signers) signed; skipped when none is given. */
  list.run('signers.expected', () => {
    const want = [...new Set((expect?.signers ?? []).map((k) => k.trim().toLowerCase()))];
    if (want.length === 0) return skipped(`no expected signer given (--expect-signer or a policy's signers)`);
    needStatement();
    for (const k of want) {
      if (!HEX64.test(k)) fail(`expected signer ${k} is not a keyid (64 hex digits)`);
      if (!ctx.verified.has(k) && !ctx.cosigned.has(k)) fail(`expected signer ${short(k)} did not sign`);
    }
    return `every expected signer signed: ${want.map((k) => `${ctx.verified.get(k) ?? ctx.cosigned.get(k)?.role} ${short(k)}`).join(', ')}`;
  });

  /** statement.expected: the statement digest (SHA-256 of the payload) is the one the caller holds (--expect-statement, policy statementSha256); skipped when none is given. */
  list.run('statement.expected', () => {
    const want = expect?.statements ?? [];
    if (want.length === 0) return skipped(`no expected statement digest given (--expect-statement or a policy's statementSha256); it is ${ctx.statementSha256 ?? 'unknown'}`);
    needStatement();
    for (const w of want) {
      if (w.sha256.toLowerCase() !== ctx.statementSha256) fail(`the statement digest is ${ctx.statementSha256}, not ${w.sha256} (${w.from})`);
    }
    return `the statement digest ${ctx.statementSha256} is the expected one`;
  });
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
    if (isOutsideStatement((name as string).split('/')[0], true)) fail(`subject ${name} should not be a subject`);
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

/** Whether hsm.selected records that the token had no usable EC P-384, so the signer took a fallback (core/hsm/capabilities.ts). */
function signerFallbackOf(data: unknown): boolean {
  const caps = (data as { capabilities?: unknown } | undefined)?.capabilities;
  return Array.isArray(caps) && caps.some((r) => isObject(r) && r.capability === 'signer' && r.path === 'fallback');
}

function rsaBits(key: KeyObject): number {
  return key.asymmetricKeyType === 'rsa' ? (key.asymmetricKeyDetails?.modulusLength ?? 0) : 0;
}
