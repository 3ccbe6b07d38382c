/**
 * The KCV of a recovered backup key, computed in software so that a wrong passphrase (which SLIP-39
 * cannot detect) is caught before any token is logged in to or changed.
 */
import { createCipheriv } from 'node:crypto';

/** AES block encryption of one 16-byte block (ECB: a single block, no chaining involved). */
function aesBlock(key: Buffer, block: Buffer): Buffer {
  const c = createCipheriv(`aes-${key.length * 8}-ecb`, key, null);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(block), c.final()]);
}

/**
 * SPEC §3 KCV: first 3 bytes, lowercase hex, of AES-CMAC(key, 16 zero bytes). node:crypto has no
 * CMAC, so this is RFC 4493 for the one case needed: a single complete block M = 0^16, where
 * CMAC = AES(K, M xor K1) = AES(K, K1) and K1 = dbl(AES(K, 0^16)).
 * `openssl mac -cipher AES-256-CBC -macopt hexkey:KEK CMAC` gives the same (tested).
 */
export function aesKcvSoftware(key: Uint8Array): string {
  const k = Buffer.from(key);
  const l = aesBlock(k, Buffer.alloc(16));
  const k1 = Buffer.alloc(16);
  for (let i = 0; i < 16; i++) k1[i] = ((l[i] << 1) | (i < 15 ? l[i + 1] >> 7 : 0)) & 0xff;
  if (l[0] & 0x80) k1[15] ^= 0x87;
  const mac = aesBlock(k, k1);
  const kcv = mac.subarray(0, 3).toString('hex');
  for (const b of [k, l, k1, mac]) b.fill(0);
  return kcv;
}
