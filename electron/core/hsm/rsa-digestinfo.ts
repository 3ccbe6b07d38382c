import { createHash } from 'node:crypto';

/**
 * RSA PKCS#1 v1.5 with SHA-256 for tokens without CKM_SHA256_RSA_PKCS: the SHA-256 DigestInfo is
 * built here (RFC 8017 §9.2, note 1) and CKM_RSA_PKCS pads and signs it in the token. The
 * signature is byte for byte the one CKM_SHA256_RSA_PKCS makes.
 */
const SHA256_DIGESTINFO_PREFIX = Buffer.from('3031300d060960864801650304020105000420', 'hex');

export function sha256DigestInfo(data: Buffer): Buffer {
  return Buffer.concat([SHA256_DIGESTINFO_PREFIX, createHash('sha256').update(data).digest()]);
}
