/**
 * The KCV of a recovered backup key, computed in software so that a wrong passphrase (which SLIP-39
 * cannot detect) is caught before any token is logged in to or changed.
 *
 * docs/transcript.md KCV: first 3 bytes, lowercase hex, of AES-CMAC(key, 16 zero bytes). node:crypto has no
 * CMAC, so this is RFC 4493 for the one case needed: a single complete block M = 0^16, where
 * CMAC = AES(K, M xor K1) = AES(K, K1) and K1 = dbl(AES(K, 0^16)) (core/hsm/kcv-ecb.ts, which tokens
 * without CKM_AES_CMAC use too). `openssl mac -cipher AES-256-CBC -macopt hexkey:KEK CMAC` gives the same (tested).
 */
export { kcvSoftware as aesKcvSoftware } from '../hsm/kcv-ecb.ts';
