/**
 * A stand-in for an online KMS's import side: an RSA key pair made with node:crypto whose public
 * half is handed to Keyrite as the wrapping key, and the unwrap each KMS documents —
 * RSA-OAEP (stated hash for digest and MGF1, empty label) of the ephemeral AES-256 key, then
 * RFC 5649 unwrap of the material; or RSA-OAEP of the material itself for the direct forms.
 */
import { constants, createCipheriv, createDecipheriv, createPrivateKey, createPublicKey, generateKeyPairSync, privateDecrypt, type KeyObject } from 'node:crypto';

export type Hash = 'sha1' | 'sha256';

export interface StandInKms {
  bits: number;
  privateKey: KeyObject;
  spkiDer: Buffer;
  spkiPem: string;
}

const cache = new Map<number, StandInKms>();

/** One key pair per size per test process (RSA-4096 generation takes a while). */
export function standInKms(bits: 1024 | 2048 | 3072 | 4096): StandInKms {
  let kms = cache.get(bits);
  if (!kms) {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
    kms = {
      bits,
      privateKey,
      spkiDer: publicKey.export({ format: 'der', type: 'spki' }),
      spkiPem: publicKey.export({ format: 'pem', type: 'spki' }) as string,
    };
    cache.set(bits, kms);
  }
  return kms;
}

const RFC5649_IV = Buffer.from('A65959A6', 'hex');

export function oaepDecrypt(kms: StandInKms, data: Buffer, hash: Hash): Buffer {
  return privateDecrypt({ key: kms.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, data);
}

export function kwpUnwrap(kek: Buffer, wrapped: Buffer): Buffer {
  const d = createDecipheriv('id-aes256-wrap-pad', kek, RFC5649_IV);
  return Buffer.concat([d.update(wrapped), d.final()]);
}

/** CKM_RSA_AES_KEY_WRAP as a KMS undoes it: the first modulus-length bytes are OAEP, the rest KWP. */
export function unwrapRsaAes(kms: StandInKms, blob: Buffer, hash: Hash): { ephemeral: Buffer; material: Buffer } {
  const k = kms.bits / 8;
  const ephemeral = oaepDecrypt(kms, blob.subarray(0, k), hash);
  if (ephemeral.length !== 32) throw new Error(`ephemeral key is ${ephemeral.length} bytes, not 32`);
  return { ephemeral, material: kwpUnwrap(ephemeral, blob.subarray(k)) };
}

/** The length of the DER element at the start of `der` (tag, length, contents). */
export function derElementLength(der: Buffer): number {
  const first = der[1];
  if (first < 0x80) return 2 + first;
  const n = first & 0x7f;
  return 2 + n + der.readUIntBE(2, n);
}

/**
 * PKCS#8 DER from unwrapped material. SoftHSM 2.6 zero-pads to a multiple of 8 before RFC 5649, so
 * up to 7 zero bytes may follow the DER; anything else after it is an error.
 */
export function pkcs8FromMaterial(material: Buffer): { der: Buffer; trailing: Buffer } {
  const len = derElementLength(material);
  const trailing = material.subarray(len);
  if (trailing.length > 7 || trailing.some((b) => b !== 0)) throw new Error(`unexpected ${trailing.length} byte(s) after the PKCS#8 DER`);
  return { der: material.subarray(0, len), trailing };
}

/** SPKI DER of the public half of a PKCS#8 private key. */
export function spkiOfPkcs8(der: Buffer): Buffer {
  return createPublicKey(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })).export({ format: 'der', type: 'spki' });
}

/** AES-CMAC (RFC 4493) with AES-256, in software, for KCVs. */
export function aesCmac(key: Buffer, message: Buffer): Buffer {
  const enc = (block: Buffer) => {
    const c = createCipheriv(`aes-${key.length * 8}-ecb`, key, null);
    c.setAutoPadding(false);
    return Buffer.concat([c.update(block), c.final()]);
  };
  const dbl = (b: Buffer) => {
    const out = Buffer.alloc(16);
    for (let i = 0; i < 16; i++) out[i] = ((b[i] << 1) | (i < 15 ? b[i + 1] >> 7 : 0)) & 0xff;
    if (b[0] & 0x80) out[15] ^= 0x87;
    return out;
  };
  const k1 = dbl(enc(Buffer.alloc(16)));
  const k2 = dbl(k1);
  const n = Math.max(1, Math.ceil(message.length / 16));
  const complete = message.length > 0 && message.length % 16 === 0;
  let last: Buffer = Buffer.alloc(16);
  message.copy(last, 0, (n - 1) * 16);
  if (!complete) last[message.length - (n - 1) * 16] = 0x80;
  last = xor(last, complete ? k1 : k2);
  let x: Buffer = Buffer.alloc(16);
  for (let i = 0; i < n - 1; i++) x = enc(xor(x, message.subarray(i * 16, i * 16 + 16)));
  return enc(xor(x, last));
}

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.alloc(16);
  for (let i = 0; i < 16; i++) out[i] = a[i] ^ b[i];
  return out;
}

/** KCV per docs/transcript.md: first 3 bytes, lowercase hex, of AES-CMAC(key, 16 zero bytes). */
export function kcv(key: Buffer): string {
  return aesCmac(key, Buffer.alloc(16)).subarray(0, 3).toString('hex');
}
