import { generateKeyPairSync } from 'node:crypto';
import type { HsmError } from '../hsm/errors.ts';
import type { HsmSession, KeyRef, KwpInfo, OaepHash } from '../hsm/types.ts';

/**
 * The one wrap primitive behind every KMS export. All of it runs inside the token: the root key is
 * never in application memory, and neither is the ephemeral AES key.
 */

export const METHOD_NATIVE = 'native CKM_RSA_AES_KEY_WRAP';
export const METHOD_TWO_STEP = 'two-step OAEP+KWP';
export const METHOD_OAEP = 'OAEP';

export interface WrapResult {
  ciphertext: Buffer;
  /** METHOD_NATIVE, METHOD_TWO_STEP or METHOD_OAEP, recorded in export.created. */
  method: string;
  /** The RFC 5649 mechanism of the two-step form. */
  kwp?: KwpInfo;
}

/**
 * CKM_RSA_AES_KEY_WRAP output: OAEP(hash)(ephemeral AES-256) || KWP(ephemeral, material).
 * Native when the token has the mechanism for this hash; otherwise the same bytes in two steps,
 * with an ephemeral key generated in the token (extractable only so OAEP can wrap it) and destroyed
 * whatever happens.
 */
export function rsaAesWrap(session: HsmSession, kmsKey: KeyRef, key: KeyRef, hash: OaepHash): WrapResult {
  if (session.hasRsaAesKeyWrap(hash)) {
    return { ciphertext: session.wrapRsaAesNative(kmsKey, key, hash), method: METHOD_NATIVE };
  }
  const ephemeral = session.generateAesSessionKey('keyrite-export-ephemeral', { wrap: true, extractable: true });
  try {
    const { wrapped, info } = session.wrapKwp(ephemeral, key);
    const wrappedEphemeral = session.wrapOaep(kmsKey, ephemeral, hash);
    return { ciphertext: Buffer.concat([wrappedEphemeral, wrapped]), method: METHOD_TWO_STEP, kwp: info };
  } finally {
    session.destroy(ephemeral);
  }
}

/** RSA-OAEP of a secret (AES) key straight under the KMS key: AWS RSAES_OAEP_*, GCP RSA_OAEP_*_SHA256. */
export function oaepWrap(session: HsmSession, kmsKey: KeyRef, key: KeyRef, hash: OaepHash): WrapResult {
  return { ciphertext: session.wrapOaep(kmsKey, key, hash), method: METHOD_OAEP };
}

/** Imports the KMS's public key as a session object for the duration of `fn`. */
export function withWrappingKey<T>(session: HsmSession, spki: Buffer, label: string, fn: (kmsKey: KeyRef) => T): T {
  const kmsKey = session.importRsaPublicKey(spki, label);
  try {
    return fn(kmsKey);
  } finally {
    session.destroy(kmsKey);
  }
}

let probeSpki: Buffer | undefined;
const probed = new WeakMap<HsmSession, Set<OaepHash>>();

/**
 * Which OAEP hashes the token really does. Tokens list CKM_RSA_PKCS_OAEP without saying which hashes
 * it takes (SoftHSM 2.6 refuses SHA-256 with CKR_ARGUMENTS_BAD), so this tries: a throwaway RSA public
 * key and a throwaway AES session key, one wrap per hash, both destroyed. Cached per session.
 */
export function probeOaepHashes(session: HsmSession): Set<OaepHash> {
  const cached = probed.get(session);
  if (cached) return new Set(cached);
  probeSpki ??= generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'der', type: 'spki' });
  const ok = new Set<OaepHash>();
  withWrappingKey(session, probeSpki, 'keyrite-oaep-probe', (pub) => {
    const aes = session.generateAesSessionKey('keyrite-oaep-probe', { wrap: false, extractable: true });
    try {
      for (const hash of ['sha1', 'sha256'] as const) {
        try {
          session.wrapOaep(pub, aes, hash);
          ok.add(hash);
        } catch (err) {
          // Only a refusal of the mechanism or its parameters means "not this hash"; anything else
          // (a lost session or token, a locked PIN, an unexpected error) is a real failure.
          const code = (err as HsmError).code;
          if (code !== 'mechanism-missing' && code !== 'refused') throw err;
        }
      }
    } finally {
      session.destroy(aes);
    }
  });
  probed.set(session, ok);
  return new Set(ok);
}
