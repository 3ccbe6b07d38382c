/**
 * Co-signatures (docs/transcript.md): the people in the room append their own signatures over the same PAE.
 * Each one is a signature in the envelope by a key that is not a listed signer, with a record
 * cosignatures/<keyid>.json {participant, role, spki, signedAt, token}. The record is outside the
 * signed statement, so everything in it is checked against something that is signed: the SPKI
 * against the keyid and the signature, the participant and role against plan.json (a subject), and
 * a keyid the plan registered for that participant against the key.
 */
import path from 'node:path';
import { HEX64, TIME_PATTERN } from '../transcript/chain.ts';
import { COSIGNATURES_DIR, isCanonicalBase64, keyidOf, pae, verifySignature } from '../transcript/dsse.ts';
import { fail, get, isObject, isString, plural, short, skipped, type Checklist } from './checklist.ts';
import type { FolderContext } from './context.ts';
import { entryAt, listDir, NO_LINKS, readInside, relName } from './folder.ts';

const COSIGNER_ROLES = ['witness', 'administrator'];

/** cosignatures: every signature by an unlisted key is a verified co-signature by a plan witness or administrator (the one the plan registers that key to, if any), and every cosignatures/ record has its signature. */
export function checkCosignatures(ctx: FolderContext, list: Checklist, plan: unknown, unsigned: string): void {
  list.run('cosignatures', () => {
    if (!ctx.envelope || !ctx.statement) fail(ctx.envelopeExists ? 'no statement to check' : unsigned);
    const listed = new Set(ctx.statement!.predicate.signers.map((s) => s.keyid));
    const cosigs = ctx.envelope!.signatures.filter((s) => !listed.has(s.keyid));
    const folder = entryAt(ctx.dir, COSIGNATURES_DIR);
    if (folder.kind === 'link') fail(`${relName(ctx, folder.at)} is a symbolic link; ${NO_LINKS}`);
    if (folder.kind !== 'missing' && folder.kind !== 'dir') fail(`${relName(ctx, COSIGNATURES_DIR)} is not a folder`);
    const records = folder.kind === 'dir' ? listDir(path.join(ctx.dir, COSIGNATURES_DIR)) : [];
    for (const e of records) {
      const name = relName(ctx, `${COSIGNATURES_DIR}/${e.name}`);
      const m = /^([0-9a-f]{64})\.json$/.exec(e.name);
      if (!m || !e.isFile()) fail(`${name} is not a co-signature record (<keyid>.json)`);
      if (!cosigs.some((s) => s.keyid === m![1])) fail(`${name} has no co-signature in the envelope`);
    }
    if (cosigs.length === 0) return skipped('no co-signatures: nobody in the room added their own signature');

    const signed = pae(ctx.envelope!.payloadType, ctx.envelope!.payload);
    const participants = Array.isArray(get(plan, 'participants')) ? (get(plan, 'participants') as unknown[]) : undefined;
    if (!participants) fail('plan.json has no participants to check the co-signers against');
    const who: string[] = [];
    for (const s of cosigs) {
      const file = relName(ctx, `${COSIGNATURES_DIR}/${s.keyid}.json`);
      const bytes = readInside(ctx.dir, `${COSIGNATURES_DIR}/${s.keyid}.json`);
      if (!bytes) fail(`signature by ${short(s.keyid)} is not a listed signer and ${file} is missing`);
      let rec: unknown;
      try {
        rec = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
      } catch {
        fail(`${file} is not UTF-8 JSON`);
      }
      if (!isObject(rec)) fail(`${file} is not a JSON object`);
      const r = rec as Record<string, unknown>;
      if (!isString(r.participant) || r.participant === '') fail(`${file}: participant is missing`);
      if (!isString(r.role) || !COSIGNER_ROLES.includes(r.role)) fail(`${file}: role is not witness or administrator`);
      if (!isCanonicalBase64(r.spki) || r.spki === '') fail(`${file}: spki is not base64`);
      if (!isString(r.signedAt) || !TIME_PATTERN.test(r.signedAt)) fail(`${file}: signedAt is not a UTC RFC 3339 time with milliseconds`);
      for (const f of ['manufacturer', 'model', 'serialNumber']) if (!isString(get(r.token, f))) fail(`${file}: token.${f} is missing`);
      const spki = Buffer.from(r.spki as string, 'base64');
      if (keyidOf(spki) !== s.keyid) fail(`${file}: its spki's SHA-256 is ${short(keyidOf(spki))}, not the keyid ${short(s.keyid)}`);
      if (!verifySignature(spki, signed, s.sig)) fail(`co-signature by ${r.participant} (${short(s.keyid)}) does not verify`);
      const p = participants!.find((x) => get(x, 'id') === r.participant);
      if (!p) fail(`${file}: ${r.participant} is not a participant in plan.json`);
      if (get(p, 'role') !== r.role) fail(`${file}: ${r.participant} is ${String(get(p, 'role'))} in plan.json, not ${r.role}`);
      // The record is unsigned: a key the plan registers to someone else cannot be relabelled as this participant's.
      const owner = participants!.find((x) => get(x, 'keyid') === s.keyid && get(x, 'id') !== r.participant);
      if (owner) fail(`${file}: plan.json registers this key to ${String(get(owner, 'id'))}, not ${r.participant}`);
      const registered = get(p, 'keyid');
      if (registered !== undefined && (!isString(registered) || !HEX64.test(registered) || registered !== s.keyid)) {
        fail(`${file}: plan.json registers another key for ${r.participant} (${short(String(registered))}), not ${short(s.keyid)}`);
      }
      ctx.cosigned.set(s.keyid, { participant: r.participant as string, role: r.role as string });
      who.push(`${r.role} ${r.participant} ${short(s.keyid)}${registered ? ' (registered in the plan)' : ''}`);
    }
    return `${plural(cosigs.length, 'co-signature')} verify over the same PAE: ${who.join(', ')}`;
  });
}
