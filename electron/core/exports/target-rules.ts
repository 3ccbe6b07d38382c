import { accessSync, constants, statSync } from 'node:fs';
import type { PlanExport } from '../ceremony/plan.ts';
import type { RootAlgorithm } from '../hsm/types.ts';
import { MIN_WRAPPING_KEY_BITS, VAULT_TYPES, algorithmName, azureKeyType, exportRequirement, type ExportRequirement } from './requirements.ts';
import { readWrappingKey, WrappingKeyProblem, type WrappingKey } from './wrapping-key.ts';

/**
 * The rules of an export target that the plan's own files and root type decide (SPEC §2, §6): no
 * token, no HSM. `keyrite plan check` and plan loading report them (exit 2); the HSM preflight and
 * runExport run them again, since a file can change between the plan check and the wrap.
 */

/** The plan field a problem belongs to: exports[i].<field>. */
export type TargetField = 'wrappingKey' | 'importToken' | 'algorithm' | 'kind' | 'type';

export interface TargetProblem {
  field: TargetField;
  /** A phrase that reads after "exports[i].<field>: ". */
  message: string;
}

/** How a field's problem reads after "exports[i] name: " in the preflight, where the path is not shown. */
export const FIELD_LABELS: Partial<Record<TargetField, string>> = {
  wrappingKey: 'wrapping key',
  importToken: 'import token',
  type: 'Vault type',
};

/** A plan value as it goes into a one-line message: control characters would break the line. */
export function shown(value: string): string {
  return /[\u0000-\u001f\u007f]/.test(value) ? JSON.stringify(value) : value;
}

/** Undefined when `file` is a readable, non-empty regular file; else why not, completed by the caller. */
export function fileProblem(file: string): string | undefined {
  try {
    const st = statSync(file);
    if (!st.isFile()) return 'is not a file';
    if (st.size === 0) return 'is empty';
    accessSync(file, constants.R_OK);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown';
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'does not exist';
    if (code.startsWith('ERR_INVALID_ARG')) return 'is not a valid path';
    return `cannot be read (${code})`;
  }
}

function fileMessage(rel: string, problem: string): string {
  return problem === 'does not exist' ? `file ${shown(rel)} does not exist` : `${shown(rel)} ${problem}`;
}

/**
 * Every token-independent problem of one target, each with its field; also the wrapping key when
 * it parsed. Never throws for anything a plan can contain.
 */
export function checkExportTarget(
  target: PlanExport,
  resolve: (p: string) => string,
  root: RootAlgorithm,
): { problems: TargetProblem[]; key?: WrappingKey; req: ExportRequirement } {
  const problems: TargetProblem[] = [];
  const add = (field: TargetField, message: string) => problems.push({ field, message });
  const req = exportRequirement(target);
  const alg = algorithmName(target);

  // The wrapping key the KMS handed out: RSA SPKI, big enough, the size a GCP import job names.
  let key: WrappingKey | undefined;
  const wk = shown(target.wrappingKey);
  const wkFile = fileProblem(resolve(target.wrappingKey));
  if (wkFile) add('wrappingKey', fileMessage(target.wrappingKey, wkFile));
  else {
    try {
      key = readWrappingKey(resolve(target.wrappingKey));
      if (key.bits < MIN_WRAPPING_KEY_BITS) add('wrappingKey', `${wk} is RSA-${key.bits}; at least RSA-${MIN_WRAPPING_KEY_BITS} is required`);
      else if (req.fixedBits && key.bits !== req.fixedBits) add('wrappingKey', `${wk} is RSA-${key.bits} but ${alg} needs RSA-${req.fixedBits}`);
    } catch (err) {
      if (!(err instanceof WrappingKeyProblem)) throw err;
      add('wrappingKey', `${wk} ${err.message}`);
    }
  }

  // AWS: the import token goes into the bundle as it is, so it only has to be there.
  if (target.kind === 'aws-kms') {
    const p = fileProblem(resolve(target.importToken));
    if (p) add('importToken', fileMessage(target.importToken, p));
  }

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
  return { problems, key, req };
}

/** The same problem as the preflight words it: "wrapping key X is RSA-1024; …". */
export function labelled(p: TargetProblem): string {
  const label = FIELD_LABELS[p.field];
  return label ? `${label} ${p.message}` : p.message;
}
