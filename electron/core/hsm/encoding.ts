import { createPublicKey } from 'node:crypto';
import type { RootAlgorithm } from './types.ts';

/** DER of the named-curve OIDs used as CKA_EC_PARAMS. */
export const EC_PARAMS = {
  p256: Buffer.from('06082a8648ce3d030107', 'hex'), // 1.2.840.10045.3.1.7
  p384: Buffer.from('06052b81040022', 'hex'), // 1.3.132.0.34
  ed25519: Buffer.from('06032b6570', 'hex'), // 1.3.101.112
  /** PrintableString "edwards25519": what PKCS#11 3.0 also allows, and some tokens want. */
  ed25519Printable: Buffer.concat([Buffer.from([0x13, 12]), Buffer.from('edwards25519', 'ascii')]),
};

export type CurveName = 'P-256' | 'P-384' | 'Ed25519';

export function curveOfParams(params: Buffer): CurveName | undefined {
  if (params.equals(EC_PARAMS.p256)) return 'P-256';
  if (params.equals(EC_PARAMS.p384)) return 'P-384';
  if (params.equals(EC_PARAMS.ed25519) || params.equals(EC_PARAMS.ed25519Printable)) return 'Ed25519';
  return undefined;
}

const RAW_POINT_LENGTH: Record<CurveName, number> = { 'P-256': 65, 'P-384': 97, 'Ed25519': 32 };

/** DER length octets. */
export function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** Reads a DER TLV header at `off`: returns where the content starts and how long it is. */
export function derHeader(buf: Buffer, off = 0): { tag: number; start: number; length: number } | undefined {
  if (off + 2 > buf.length) return undefined;
  const tag = buf[off];
  let len = buf[off + 1];
  let start = off + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || start + n > buf.length) return undefined;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[start + i];
    start += n;
  }
  if (start + len > buf.length) return undefined;
  return { tag, start, length: len };
}

/**
 * CKA_EC_POINT should be a DER OCTET STRING around the point (PKCS#11 2.40), but some tokens store the
 * bare point. A bare uncompressed point also starts with 0x04, so decide by the curve's point length.
 */
export function unwrapEcPoint(value: Buffer, curve: CurveName): Buffer {
  if (value.length === RAW_POINT_LENGTH[curve]) return value;
  const h = derHeader(value);
  if (h && h.tag === 0x04 && h.start + h.length === value.length) return value.subarray(h.start);
  throw new Error(`CKA_EC_POINT has an unexpected encoding (${value.length} bytes)`);
}

export function octetString(content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0x04]), derLength(content.length), content]);
}

const b64u = (b: Buffer) => b.toString('base64url');

/** SPKI DER of an EC or Ed25519 public key from its curve and point; node:crypto parses it, so it is well formed. */
export function ecSpki(curve: CurveName, point: Buffer): Buffer {
  if (curve === 'Ed25519') {
    if (point.length !== 32) throw new Error(`Ed25519 public key is ${point.length} bytes, not 32`);
    return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64u(point) }, format: 'jwk' }).export({ type: 'spki', format: 'der' });
  }
  const size = curve === 'P-256' ? 32 : 48;
  if (point.length !== 1 + 2 * size || point[0] !== 0x04) throw new Error(`EC point is not an uncompressed ${curve} point`);
  const x = point.subarray(1, 1 + size);
  const y = point.subarray(1 + size);
  return createPublicKey({ key: { kty: 'EC', crv: curve, x: b64u(x), y: b64u(y) }, format: 'jwk' }).export({ type: 'spki', format: 'der' });
}

export function rsaSpki(modulus: Buffer, exponent: Buffer): Buffer {
  const strip = (b: Buffer) => {
    let i = 0;
    while (i < b.length - 1 && b[i] === 0) i++;
    return b.subarray(i);
  };
  return createPublicKey({ key: { kty: 'RSA', n: b64u(strip(modulus)), e: b64u(strip(exponent)) }, format: 'jwk' }).export({ type: 'spki', format: 'der' });
}

/** Parts of a public key, for creating a PKCS#11 public key object from an SPKI. */
export type PublicParts =
  | { kind: 'rsa'; modulus: Buffer; exponent: Buffer; bits: number }
  | { kind: 'ec'; curve: CurveName; point: Buffer };

export function publicPartsOfSpki(spki: Buffer): PublicParts {
  const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  const jwk = key.export({ format: 'jwk' });
  if (jwk.kty === 'RSA') {
    const modulus = Buffer.from(jwk.n!, 'base64url');
    return { kind: 'rsa', modulus, exponent: Buffer.from(jwk.e!, 'base64url'), bits: key.asymmetricKeyDetails?.modulusLength ?? modulus.length * 8 };
  }
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return { kind: 'ec', curve: 'Ed25519', point: Buffer.from(jwk.x!, 'base64url') };
  if (jwk.kty === 'EC' && (jwk.crv === 'P-256' || jwk.crv === 'P-384')) {
    return { kind: 'ec', curve: jwk.crv, point: Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]) };
  }
  throw new Error(`unsupported public key type ${jwk.kty}${jwk.crv ? ' ' + jwk.crv : ''}`);
}

/** Which root algorithm an SPKI belongs to, or undefined. */
export function algorithmOfSpki(spki: Buffer): RootAlgorithm | undefined {
  const p = publicPartsOfSpki(spki);
  if (p.kind === 'rsa') return p.bits === 3072 ? 'rsa-3072' : p.bits === 4096 ? 'rsa-4096' : undefined;
  return p.curve === 'P-256' ? 'ec-p256' : p.curve === 'P-384' ? 'ec-p384' : 'ed25519';
}

function derInteger(unsigned: Buffer): Buffer {
  let i = 0;
  while (i < unsigned.length - 1 && unsigned[i] === 0) i++;
  let v = unsigned.subarray(i);
  if (v[0] & 0x80) v = Buffer.concat([Buffer.from([0]), v]);
  return Buffer.concat([Buffer.from([0x02]), derLength(v.length), v]);
}

/** CKM_ECDSA returns r||s; X.509 and DSSE verifiers (openssl dgst) want the DER SEQUENCE {r, s}. */
export function ecdsaRawToDer(raw: Buffer): Buffer {
  if (raw.length % 2 !== 0 || raw.length === 0) throw new Error(`ECDSA signature has odd length ${raw.length}`);
  const half = raw.length / 2;
  const body = Buffer.concat([derInteger(raw.subarray(0, half)), derInteger(raw.subarray(half))]);
  return Buffer.concat([Buffer.from([0x30]), derLength(body.length), body]);
}

/**
 * The exact DER length of a PKCS#8 blob that may carry trailing zero bytes (a token that zero-pads
 * its RFC 5649 input returns them on unwrap). Returns the blob unchanged when it is not DER.
 */
export function trimDer(blob: Buffer): Buffer {
  const h = derHeader(blob);
  if (!h || h.tag !== 0x30) return blob;
  const end = h.start + h.length;
  return blob.subarray(end).every((b) => b === 0) ? blob.subarray(0, end) : blob;
}
