import { createCipheriv } from 'node:crypto';

/**
 * The KCV (docs/transcript.md: first 3 bytes of AES-CMAC(key, 16 zero bytes)) from two AES-ECB encryptions,
 * for tokens without CKM_AES_CMAC. For a one-block message M = 0^128, NIST SP 800-38B gives:
 *
 *   L   = AES-ECB(K, 0^128)                       first encryption, in the token
 *   K1  = L << 1, XOR 0x87 into the last byte when the top bit of L was set   (in software)
 *   MAC = AES-ECB(K, M XOR K1) = AES-ECB(K, K1)   second encryption, in the token
 *
 * so the value is the very same AES-CMAC, and a KCV made this way equals one made with
 * CKM_AES_CMAC or in software. The key needs CKA_ENCRYPT. L is held in memory only for the
 * shift, then zeroed; it is never recorded (it is itself the classic "encrypt zeros" check value).
 */
export function cmacSubkey(l: Buffer): Buffer {
  const k1 = Buffer.alloc(16);
  for (let i = 0; i < 16; i++) k1[i] = ((l[i] << 1) | (i < 15 ? l[i + 1] >> 7 : 0)) & 0xff;
  if (l[0] & 0x80) k1[15] ^= 0x87;
  return k1;
}

/** `encryptBlock` runs CKM_AES_ECB in the token on one 16-byte block. */
export function kcvFromEcb(encryptBlock: (block: Buffer) => Buffer): string {
  const l = encryptBlock(Buffer.alloc(16));
  const k1 = cmacSubkey(l);
  l.fill(0);
  const mac = encryptBlock(k1);
  k1.fill(0);
  return mac.subarray(0, 3).toString('hex');
}

/** The same KCV entirely in software (node:crypto AES-ECB on one block): recovery checks, self-tests. */
export function kcvSoftware(key: Uint8Array): string {
  const k = Buffer.from(key);
  try {
    return kcvFromEcb((block) => {
      const c = createCipheriv(`aes-${k.length * 8}-ecb`, k, null);
      c.setAutoPadding(false);
      return Buffer.concat([c.update(block), c.final()]);
    });
  } finally {
    k.fill(0);
  }
}
