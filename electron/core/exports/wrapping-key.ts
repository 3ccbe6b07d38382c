import { createPublicKey, type KeyObject } from 'node:crypto';
import { sha256Hex } from '../util/files.ts';

/** The KMS's RSA public key from a plan's `wrappingKey` file, normalised to SPKI DER. */
export interface WrappingKey {
  spki: Buffer;
  bits: number;
  /** Lowercase hex SHA-256 of the SPKI DER (transcript `wrappingKeySha256`). */
  sha256: string;
}

/** Why a wrapping key file cannot be used; one phrase, completed by the caller with where. */
export class WrappingKeyProblem extends Error {}

/**
 * Parses DER or PEM SPKI (AWS hands out DER, GCP/Azure/Vault PEM). Anything else — a certificate, a
 * private key, PKCS#1 — is refused: the file must be exactly the public key the KMS gave out. The
 * bytes are the plan's pinned file as read once at plan load (ceremony/plan-files.ts).
 */
export function parseWrappingKey(bytes: Buffer): WrappingKey {
  if (bytes.length === 0) throw new WrappingKeyProblem('is empty');
  let key: KeyObject;
  const text = bytes.toString('latin1');
  try {
    if (text.includes('-----BEGIN')) {
      if (!/-----BEGIN PUBLIC KEY-----/.test(text)) {
        const label = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(text)?.[1] ?? 'unknown';
        throw new WrappingKeyProblem(`is a PEM "${label}", not a "PUBLIC KEY" (SPKI)`);
      }
      key = createPublicKey({ key: text, format: 'pem' });
    } else {
      key = createPublicKey({ key: bytes, format: 'der', type: 'spki' });
    }
  } catch (err) {
    if (err instanceof WrappingKeyProblem) throw err;
    throw new WrappingKeyProblem('is not a DER or PEM SubjectPublicKeyInfo');
  }
  if (key.asymmetricKeyType !== 'rsa') throw new WrappingKeyProblem(`is not an RSA key (it is ${(key.asymmetricKeyType ?? 'unknown').toUpperCase()})`);
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  const spki = key.export({ format: 'der', type: 'spki' });
  return { spki, bits, sha256: sha256Hex(spki) };
}
