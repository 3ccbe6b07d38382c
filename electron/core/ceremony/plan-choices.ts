/**
 * The plan's fixed choices (docs/plan.md and docs/exports.md). Imports nothing, so the desktop renderer's plan form
 * can offer exactly the lists the plan schema (plan.ts) accepts.
 */
export const ROLES = ['administrator', 'witness', 'custodian', 'auditor', 'observer'] as const;

export const EXPORT_KINDS = ['aws-kms', 'gcp-kms', 'azure-byok', 'vault-transit'] as const;

export const AWS_ALGORITHMS = ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256', 'RSA_AES_KEY_WRAP_SHA_1', 'RSA_AES_KEY_WRAP_SHA_256'] as const;
export const GCP_ALGORITHMS = [
  'RSA_OAEP_3072_SHA1_AES_256',
  'RSA_OAEP_4096_SHA1_AES_256',
  'RSA_OAEP_3072_SHA256_AES_256',
  'RSA_OAEP_4096_SHA256_AES_256',
  'RSA_OAEP_3072_SHA256',
  'RSA_OAEP_4096_SHA256',
] as const;
export const VAULT_HASHES = ['SHA1', 'SHA256'] as const;
export const AZURE_ALGORITHMS = ['CKM_RSA_AES_KEY_WRAP'] as const;
