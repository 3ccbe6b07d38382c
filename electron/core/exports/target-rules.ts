import type { PlanFiles } from '../ceremony/plan-files.ts';
import type { PlanExport } from './target-schema.ts';
import type { RootAlgorithm } from '../hsm/types.ts';
import { MIN_WRAPPING_KEY_BITS, VAULT_TYPES, algorithmName, azureKeyType, exportRequirement, type ExportRequirement } from './requirements.ts';
import { parseWrappingKey, WrappingKeyProblem, type WrappingKey } from './wrapping-key.ts';

/**
 * The rules of an export target that the plan's own files and root type decide (docs/plan.md, docs/exports.md): no
 * token, no HSM. `keyrite plan check` and plan loading report them (exit 2); the HSM preflight and
 * runExport run them again on the same bytes: the files come from the plan's PlanFiles, read once at
 * plan load and checked against the plan's pinned SHA-256, never read again.
 */

/** The plan field a problem belongs to: exports[i].<field>. */
export type TargetField = 'wrappingKey' | 'wrappingKeySha256' | 'importToken' | 'importTokenSha256' | 'algorithm' | 'kind' | 'type';

export interface TargetProblem {
  field: TargetField;
  /** A phrase that reads after "exports[i].<field>: ". */
  message: string;
}

/** How a field's problem reads after "exports[i] name: " in the preflight, where the path is not shown. */
export const FIELD_LABELS: Partial<Record<TargetField, string>> = {
  wrappingKey: 'wrapping key',
  wrappingKeySha256: 'wrapping key',
  importToken: 'import token',
  importTokenSha256: 'import token',
  type: 'Vault type',
};

/** A plan value as it goes into a one-line message: control characters would break the line. */
export function shown(value: string): string {
  return /[\u0000-\u001f\u007f]/.test(value) ? JSON.stringify(value) : value;
}

/**
 * Every token-independent problem of one target, each with its field; also the wrapping key when
 * it parsed. Never throws for anything a plan can contain.
 */
export function checkExportTarget(
  target: PlanExport,
  files: PlanFiles,
  root: RootAlgorithm,
): { problems: TargetProblem[]; key?: WrappingKey; importToken?: Buffer; req: ExportRequirement } {
  const problems: TargetProblem[] = [];
  const add = (field: TargetField, message: string) => problems.push({ field, message });
  const req = exportRequirement(target);
  const alg = algorithmName(target);

  // The wrapping key the KMS handed out: the pinned file, an RSA SPKI, big enough, the size a GCP
  // import job names.
  let key: WrappingKey | undefined;
  const wk = shown(target.wrappingKey);
  const wkBytes = pinned(target.wrappingKey, target.wrappingKeySha256, files, 'wrappingKey', add);
  if (wkBytes) {
    try {
      key = parseWrappingKey(wkBytes);
      if (key.bits < MIN_WRAPPING_KEY_BITS) add('wrappingKey', `${wk} is RSA-${key.bits}; at least RSA-${MIN_WRAPPING_KEY_BITS} is required`);
      else if (req.fixedBits && key.bits !== req.fixedBits) add('wrappingKey', `${wk} is RSA-${key.bits} but ${alg} needs RSA-${req.fixedBits}`);
    } catch (err) {
      if (!(err instanceof WrappingKeyProblem)) throw err;
      add('wrappingKey', `${wk} ${err.message}`);
      key = undefined;
    }
  }

  // AWS: the import token goes into the bundle as it is, so it only has to be the pinned file.
  let importToken: Buffer | undefined;
  if (target.kind === 'aws-kms') importToken = pinned(target.importToken, target.importTokenSha256, files, 'importToken', add);

  // Does the form take this kind of key, and can the KMS hold it?
  if (req.form === 'oaep' && root !== 'aes-256') {
    const instead =
      target.kind === 'aws-kms'
        ? 'RSA_AES_KEY_WRAP_SHA_1 or RSA_AES_KEY_WRAP_SHA_256'
        : `RSA_OAEP_${req.fixedBits}_SHA1_AES_256 or RSA_OAEP_${req.fixedBits}_SHA256_AES_256`;
    add('algorithm', `${alg} wraps only AES keys directly; the ${root} root key is a private key and needs ${instead}`);
  }
  if (target.kind === 'azure-byok' && !azureKeyType(root)) add('kind', `Azure Key Vault cannot import ${root} keys`);
  if (target.kind === 'vault-transit' && !VAULT_TYPES[root].includes(target.type))
    add('type', `'${shown(target.type)}' does not fit the ${root} root key (use ${VAULT_TYPES[root].map((t) => `'${t}'`).join(' or ')})`);
  return { problems, key, importToken, req };
}

/**
 * The file's bytes as read at plan load, when they are there and have the pinned digest; otherwise
 * adds the problem (on the path field, or on the digest field for a different file) and returns nothing.
 */
function pinned(rel: string, want: string, files: PlanFiles, field: 'wrappingKey' | 'importToken', add: (f: TargetField, m: string) => void): Buffer | undefined {
  const got = files.get(rel);
  if (!got.ok) {
    add(field, got.problem === 'does not exist' ? `file ${shown(rel)} does not exist` : `${shown(rel)} ${got.problem}`);
    return undefined;
  }
  if (got.sha256 !== want.toLowerCase()) {
    // A common slip: pinning the key's SPKI DER digest (what README.txt and the transcript show)
    // instead of the PEM file's own. Still refused (the pin is of the file), but said plainly.
    let hint = '; it is not the file the KMS handed out';
    if (field === 'wrappingKey') {
      try {
        if (parseWrappingKey(got.bytes).sha256 === want.toLowerCase()) hint = `; the plan has the SHA-256 of the key's DER encoding, pin the file's own (sha256sum ${shown(rel)})`;
      } catch {
        /* not a key: the plain message */
      }
    }
    add(`${field}Sha256`, `${shown(rel)} has SHA-256 ${got.sha256}, not the ${want.toLowerCase()} the plan pins${hint}`);
    return undefined;
  }
  return got.bytes;
}

/** The same problem as the preflight words it: "wrapping key X is RSA-1024; …". */
export function labelled(p: TargetProblem): string {
  const label = FIELD_LABELS[p.field];
  return label ? `${label} ${p.message}` : p.message;
}
