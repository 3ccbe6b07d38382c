/**
 * The ceremony signer signs one statement (docs/transcript.md). Right after the envelope is written, it is read
 * back from disk and checked — the very payload that was built, every signature verifying with its
 * listed key — and only then are the signer's private and public objects destroyed on the token and
 * looked for again: a search by label or by CKA_ID must find nothing. From then on nobody, even with
 * the token and its PIN, can sign another statement with that key; a rewritten transcript cannot be
 * re-signed by `keyrite ceremony sign`, because the key it would need is gone.
 *
 * Shared by the engine's finish(), `keyrite ceremony sign`, and recoveries.
 */
import { readFileSync } from 'node:fs';
import { KeyriteError, OperationError } from '../errors.ts';
import type { HsmSession } from '../hsm/types.ts';
import { DSSE_PAYLOAD_TYPE, pae, statementPayload, verifySignature, type DsseEnvelope, type InTotoStatement, type OneTimeSigner } from '../transcript/dsse.ts';

/** The predicate's record of the one-time signer. */
export function oneTimeSigner(keyid: string): OneTimeSigner {
  return { keyid, oneTime: true };
}

/**
 * Reads the envelope back from `file` and checks it is the one just signed: same payload bytes as
 * `statement`, one signature per listed signer, each verifying over the PAE. Throws OperationError.
 */
export function checkWrittenEnvelope(file: string, statement: InTotoStatement): DsseEnvelope {
  let env: DsseEnvelope;
  try {
    env = JSON.parse(readFileSync(file, 'utf8')) as DsseEnvelope;
  } catch (err) {
    throw new OperationError(`${file} cannot be read back after signing (${(err as Error).message.split('\n')[0]})`, { cause: err });
  }
  const payload = statementPayload(statement);
  if (env?.payloadType !== DSSE_PAYLOAD_TYPE || typeof env.payload !== 'string' || !Buffer.from(env.payload, 'base64').equals(payload))
    throw new OperationError(`${file} read back after signing does not hold the statement that was signed`);
  const msg = pae(DSSE_PAYLOAD_TYPE, payload);
  for (const s of statement.predicate.signers) {
    const sig = Array.isArray(env.signatures) ? env.signatures.find((x) => x.keyid === s.keyid) : undefined;
    if (!sig || typeof sig.sig !== 'string' || !verifySignature(Buffer.from(s.spki, 'base64'), msg, Buffer.from(sig.sig, 'base64')))
      throw new OperationError(`${file} read back after signing: the ${s.role} signature ${s.keyid.slice(0, 16)}… is missing or does not verify`);
  }
  return env;
}

/**
 * Destroys every object with the signer's label and CKA_ID, then searches again by each: anything
 * still found is a failure. Returns how many objects were destroyed. Throws OperationError naming
 * the key (never a PIN), with what to do.
 */
export function destroyOneTimeSigner(s: HsmSession, signer: { label: string; idHex: string }, where: string): number {
  const named = `ceremony signer '${signer.label}' (id ${signer.idHex})`;
  let n: number;
  try {
    n = s.destroyObjects({ label: signer.label, idHex: signer.idHex });
  } catch (err) {
    if (!(err instanceof KeyriteError)) throw err;
    throw new OperationError(`${where} is signed, but the ${named} could not be destroyed on token '${s.token.label}' (${err.message}); delete it from the token (both objects with this label and id) before anyone leaves the room`, { cause: err });
  }
  const left = [...s.findObjects({ label: signer.label }), ...s.findObjects({ idHex: signer.idHex })];
  if (left.length)
    throw new OperationError(`${where} is signed, but after destroying the ${named} the token '${s.token.label}' still shows ${left.length} object(s) with its label or id; delete them before anyone leaves the room`);
  return n;
}
