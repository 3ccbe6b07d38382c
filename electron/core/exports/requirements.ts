import type { PlanExport } from './target-schema.ts';
import type { OaepHash, RootAlgorithm } from '../hsm/types.ts';

/**
 * What each export target asks of the token (docs/exports.md), derived from its kind and algorithm alone.
 *
 * - `rsa-aes`: OAEP(h)(ephemeral AES-256) || KWP(ephemeral, material), the CKM_RSA_AES_KEY_WRAP form.
 *   Works for every root type: the material is the raw key (AES) or PKCS#8 DER (EC, RSA, Ed25519).
 * - `oaep`: the raw AES key OAEP-wrapped directly under the KMS key; a private key cannot be.
 */
export type WrapForm = 'rsa-aes' | 'oaep';

export interface ExportRequirement {
  form: WrapForm;
  hash: OaepHash;
  /** RSA size the KMS fixes by the algorithm name (GCP import jobs); otherwise any size ≥ 2048. */
  fixedBits?: number;
  /** The same target with SHA-1, for the message when the token lacks SHA-256 OAEP. */
  sha1Alternative?: string;
}

export const MIN_WRAPPING_KEY_BITS = 2048;

export function exportRequirement(target: PlanExport): ExportRequirement {
  switch (target.kind) {
    case 'aws-kms':
      switch (target.algorithm) {
        case 'RSAES_OAEP_SHA_1':
          return { form: 'oaep', hash: 'sha1' };
        case 'RSAES_OAEP_SHA_256':
          return { form: 'oaep', hash: 'sha256', sha1Alternative: 'RSAES_OAEP_SHA_1' };
        case 'RSA_AES_KEY_WRAP_SHA_1':
          return { form: 'rsa-aes', hash: 'sha1' };
        case 'RSA_AES_KEY_WRAP_SHA_256':
          return { form: 'rsa-aes', hash: 'sha256', sha1Alternative: 'RSA_AES_KEY_WRAP_SHA_1' };
      }
      break;
    case 'gcp-kms': {
      const bits = target.algorithm.includes('_4096_') ? 4096 : 3072;
      switch (target.algorithm) {
        case 'RSA_OAEP_3072_SHA1_AES_256':
        case 'RSA_OAEP_4096_SHA1_AES_256':
          return { form: 'rsa-aes', hash: 'sha1', fixedBits: bits };
        case 'RSA_OAEP_3072_SHA256_AES_256':
        case 'RSA_OAEP_4096_SHA256_AES_256':
          return { form: 'rsa-aes', hash: 'sha256', fixedBits: bits, sha1Alternative: `RSA_OAEP_${bits}_SHA1_AES_256` };
        case 'RSA_OAEP_3072_SHA256':
        case 'RSA_OAEP_4096_SHA256':
          // Google has no direct SHA-1 form; the SHA-1 RSA-AES form takes symmetric keys too.
          return { form: 'oaep', hash: 'sha256', fixedBits: bits, sha1Alternative: `RSA_OAEP_${bits}_SHA1_AES_256` };
      }
      break;
    }
    case 'azure-byok':
      // Key Vault's BYOK format is CKM_RSA_AES_KEY_WRAP with OAEP SHA-1, nothing else.
      return { form: 'rsa-aes', hash: 'sha1' };
    case 'vault-transit':
      return target.hashFunction === 'SHA256'
        ? { form: 'rsa-aes', hash: 'sha256', sha1Alternative: 'hashFunction SHA1' }
        : { form: 'rsa-aes', hash: 'sha1' };
  }
  throw new Error(`unknown export ${(target as PlanExport).kind}`);
}

/** How the plan's algorithm reads in messages and in the transcript. */
export function algorithmName(target: PlanExport): string {
  if (target.kind === 'vault-transit') return `RSA-OAEP-${target.hashFunction}+AES-KWP`;
  return target.algorithm;
}

/** Vault transit key types that take the root's material. */
export const VAULT_TYPES: Record<RootAlgorithm, string[]> = {
  'aes-256': ['aes256-gcm96', 'chacha20-poly1305', 'hmac'],
  'ec-p256': ['ecdsa-p256'],
  'ec-p384': ['ecdsa-p384'],
  'rsa-3072': ['rsa-3072'],
  'rsa-4096': ['rsa-4096'],
  ed25519: ['ed25519'],
};

/** gcloud's --algorithm for the imported version, by root type (the default when the plan names none). */
export const GCP_VERSION_ALGORITHMS: Record<RootAlgorithm, string> = {
  'aes-256': 'google-symmetric-encryption',
  'ec-p256': 'ec-sign-p256-sha256',
  'ec-p384': 'ec-sign-p384-sha384',
  'rsa-3072': 'rsa-sign-pkcs1-3072-sha256',
  'rsa-4096': 'rsa-sign-pkcs1-4096-sha256',
  ed25519: 'ec-sign-ed25519',
};

/** Azure's key type and curve for `az keyvault key import`; undefined when Key Vault cannot hold the key. */
export function azureKeyType(root: RootAlgorithm): { kty: 'RSA' | 'EC' | 'oct'; curve?: string } | undefined {
  switch (root) {
    case 'aes-256':
      return { kty: 'oct' }; // Managed HSM only
    case 'ec-p256':
      return { kty: 'EC', curve: 'P-256' };
    case 'ec-p384':
      return { kty: 'EC', curve: 'P-384' };
    case 'rsa-3072':
    case 'rsa-4096':
      return { kty: 'RSA' };
    case 'ed25519':
      return undefined;
  }
}

/** What the wrapped plaintext is, for messages and docs. */
export function materialName(root: RootAlgorithm): string {
  return root === 'aes-256' ? 'the raw 32-byte AES key' : 'the PKCS#8 DER private key';
}
