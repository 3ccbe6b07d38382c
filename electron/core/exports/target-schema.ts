import { z } from 'zod';
import { AWS_ALGORITHMS, AZURE_ALGORITHMS, GCP_ALGORITHMS, VAULT_HASHES } from '../ceremony/plan-choices.ts';

/**
 * The plan's `exports[]` entries (docs/plan.md, docs/exports.md). They live with the exports so that the export rules
 * and the plan schema (ceremony/plan.ts) do not import each other: plan.ts takes this schema, the
 * rules take the parsed entries and the pinned file bytes as plain data.
 */

const id = z.string().regex(/^[a-z0-9][a-z0-9-]{2,62}$/, 'must match ^[a-z0-9][a-z0-9-]{2,62}$');
const nonEmpty = z.string().trim().min(1, 'must not be empty');
/** A pinned file's SHA-256 as `sha256sum` prints it (either case is accepted, compared as lowercase). */
export const sha256Field = z.string().regex(/^[0-9a-fA-F]{64}$/, 'must be the file\'s SHA-256 as 64 hex digits');

const exportBase = {
  name: id,
  /** RSA public key the KMS handed out for the import: DER or PEM SPKI, relative to the plan. */
  wrappingKey: nonEmpty,
  /** SHA-256 of the wrapping key file exactly as the KMS handed it out (not of a re-encoding). */
  wrappingKeySha256: sha256Field,
};

const awsExport = z.strictObject({
  ...exportBase,
  kind: z.literal('aws-kms'),
  importToken: nonEmpty,
  /** SHA-256 of the import token file, as downloaded with the wrapping key. */
  importTokenSha256: sha256Field,
  algorithm: z.enum(AWS_ALGORITHMS),
  /** The KMS key id or ARN that the README's import command names. */
  keyId: nonEmpty.optional(),
  region: nonEmpty.optional(),
});

const gcpExport = z.strictObject({
  ...exportBase,
  kind: z.literal('gcp-kms'),
  algorithm: z.enum(GCP_ALGORITHMS),
  /** Names used in the README's gcloud command. */
  keyRing: nonEmpty.optional(),
  key: nonEmpty.optional(),
  location: nonEmpty.optional(),
  importJob: nonEmpty.optional(),
  /** gcloud --algorithm of the imported version; defaults by root type (e.g. ec-sign-p384-sha384). */
  keyAlgorithm: nonEmpty.optional(),
});

const azureExport = z.strictObject({
  ...exportBase,
  kind: z.literal('azure-byok'),
  /** The Key Exchange Key's id in Key Vault. */
  kid: nonEmpty,
  algorithm: z.enum(AZURE_ALGORITHMS).default('CKM_RSA_AES_KEY_WRAP'),
  vaultName: nonEmpty.optional(),
  keyName: nonEmpty.optional(),
});

const vaultExport = z.strictObject({
  ...exportBase,
  kind: z.literal('vault-transit'),
  hashFunction: z.enum(VAULT_HASHES),
  /** Vault's transit key type, e.g. "aes256-gcm96", "ecdsa-p384", "rsa-3072", "ed25519". */
  type: nonEmpty,
  /** The transit key name in the README's command; defaults to the export name. */
  keyName: nonEmpty.optional(),
  mount: nonEmpty.optional(),
});

export const planExportSchema = z.discriminatedUnion('kind', [awsExport, gcpExport, azureExport, vaultExport]);

export type PlanExport = z.infer<typeof planExportSchema>;
