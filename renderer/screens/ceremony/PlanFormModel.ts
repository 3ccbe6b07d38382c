/**
 * The plan form's data, without React: what the form holds while someone types (strings, stable row
 * keys), how that becomes a plan object for the real plan check (electron/core/ceremony/plan.ts via
 * IPC), and which field each problem's JSON path belongs to.
 *
 * The choice lists are the plan schema's own (plan-choices.ts, which imports nothing, unlike plan.ts).
 */
import { VAULT_TYPES } from '../../../electron/core/exports/requirements.ts';
import { ROOT_ALGORITHMS, type RootAlgorithm } from '../../../electron/core/hsm/types.ts';
import { AWS_ALGORITHMS, AZURE_ALGORITHMS, EXPORT_KINDS, GCP_ALGORITHMS, ROLES, VAULT_HASHES } from '../../../electron/core/ceremony/plan-choices.ts';

export { ROOT_ALGORITHMS, VAULT_TYPES };

export { ROLES, EXPORT_KINDS, VAULT_HASHES };
export type Role = (typeof ROLES)[number];

export type ExportKind = (typeof EXPORT_KINDS)[number];

/** The wrapping algorithms each kind accepts. */
export const EXPORT_ALGORITHMS: Record<Exclude<ExportKind, 'vault-transit'>, readonly string[]> = {
  'aws-kms': AWS_ALGORITHMS,
  'gcp-kms': GCP_ALGORITHMS,
  'azure-byok': AZURE_ALGORITHMS,
};

// ---- the draft --------------------------------------------------------------------------------

/** Rows carry a `uid` so a renamed participant stays in its groups and steps. */
export interface ParticipantDraft {
  uid: string;
  id: string;
  name: string;
  role: Role;
}
export interface GroupDraft {
  uid: string;
  threshold: string;
  /** Participant uids, kept in participant order. */
  custodians: string[];
}
/** Every field any kind can have; only the chosen kind's fields go into the plan. */
export interface ExportDraft {
  uid: string;
  kind: ExportKind;
  fields: Record<string, string>;
}
export interface StepDraft {
  uid: string;
  id: string;
  text: string;
  /** Participant uids. */
  ackBy: string[];
}
export interface PlanDraft {
  id: string;
  title: string;
  participants: ParticipantDraft[];
  /** `slot` (only where label and serial both repeat) and `initArgs` (C_Initialize parameters): '' for none. */
  hsm: { module: string; tokenLabel: string; tokenSerial: string; slot: string; initArgs: string };
  key: { label: string; algorithm: RootAlgorithm; sealAfterExport: boolean };
  backup: { groupThreshold: string; groups: GroupDraft[]; iterationExponent: string; passphrase: boolean };
  exports: ExportDraft[];
  steps: StepDraft[];
}

let next = 0;
export const newUid = (prefix: string): string => `${prefix}${++next}`;

export const newParticipant = (role: Role = 'custodian'): ParticipantDraft => ({ uid: newUid('p'), id: '', name: '', role });
export const newGroup = (): GroupDraft => ({ uid: newUid('g'), threshold: '2', custodians: [] });
export const newStep = (n: number): StepDraft => ({ uid: newUid('s'), id: `step-${n}`, text: '', ackBy: [] });
export function newExport(kind: ExportKind = 'aws-kms'): ExportDraft {
  return { uid: newUid('e'), kind, fields: defaultExportFields(kind) };
}
export function defaultExportFields(kind: ExportKind): Record<string, string> {
  return kind === 'vault-transit' ? { hashFunction: 'SHA256' } : { algorithm: EXPORT_ALGORITHMS[kind][kind === 'aws-kms' ? 2 : 0] };
}

export function emptyDraft(): PlanDraft {
  return {
    id: '',
    title: '',
    participants: [newParticipant('administrator'), newParticipant('witness'), newParticipant('custodian')],
    hsm: { module: '', tokenLabel: '', tokenSerial: '', slot: '', initArgs: '' },
    key: { label: '', algorithm: 'ec-p384', sealAfterExport: true },
    backup: { groupThreshold: '1', groups: [newGroup()], iterationExponent: '1', passphrase: false },
    exports: [],
    steps: [],
  };
}

// ---- export fields per kind ---------------------------------------------------------------------

export interface ExportFieldSpec {
  field: string;
  label: string;
  hint: string;
  optional?: boolean;
  /** A choice instead of free text. */
  choices?(root: RootAlgorithm): readonly string[];
}

const NAME: ExportFieldSpec = { field: 'name', label: 'Export name', hint: 'Lowercase letters, digits and "-" (3–63); names the folder in the bundle.' };
const WRAPPING_KEY: ExportFieldSpec = {
  field: 'wrappingKey',
  label: 'Wrapping key file',
  hint: 'The RSA public key the cloud service gave you for this import (PEM or DER), relative to the plan’s folder.',
};
/**
 * The SHA-256 that pins a file (docs/plan.md), copied by the administrator from where the KMS handed the
 * file out (or `sha256sum`); the core checks it is 64 hex digits and that the file has it. Typed, not
 * computed here: the page never reads files.
 */
const WRAPPING_KEY_SHA256: ExportFieldSpec = {
  field: 'wrappingKeySha256',
  label: 'Wrapping key SHA-256',
  hint: 'The SHA-256 of the wrapping key file as the cloud service gave it (64 hex digits, as sha256sum prints it). The ceremony refuses any other file.',
};
const optional = (field: string, label: string, hint: string): ExportFieldSpec => ({ field, label, hint, optional: true });

export const EXPORT_FIELDS: Record<ExportKind, ExportFieldSpec[]> = {
  'aws-kms': [
    NAME,
    WRAPPING_KEY,
    WRAPPING_KEY_SHA256,
    { field: 'importToken', label: 'Import token file', hint: 'The import token AWS gave with the wrapping key, relative to the plan’s folder.' },
    {
      field: 'importTokenSha256',
      label: 'Import token SHA-256',
      hint: 'The SHA-256 of the import token file as AWS gave it (64 hex digits, as sha256sum prints it). The ceremony refuses any other file.',
    },
    { field: 'algorithm', label: 'Wrapping algorithm', hint: 'As chosen when the import was set up in AWS. Only RSA_AES_KEY_WRAP_… can carry a private key.', choices: () => EXPORT_ALGORITHMS['aws-kms'] },
    optional('keyId', 'KMS key id or ARN (optional)', 'Used in the import command the bundle’s README shows.'),
    optional('region', 'AWS region (optional)', 'e.g. eu-west-1, for the README’s command.'),
  ],
  'gcp-kms': [
    NAME,
    WRAPPING_KEY,
    WRAPPING_KEY_SHA256,
    { field: 'algorithm', label: 'Import method', hint: 'The import job’s method; its number (3072 or 4096) must match the wrapping key’s size.', choices: () => EXPORT_ALGORITHMS['gcp-kms'] },
    optional('keyRing', 'Key ring (optional)', 'For the README’s gcloud command.'),
    optional('key', 'Key name (optional)', 'For the README’s gcloud command.'),
    optional('location', 'Location (optional)', 'e.g. europe-west1.'),
    optional('importJob', 'Import job (optional)', 'The import job’s name.'),
    optional('keyAlgorithm', 'Imported key algorithm (optional)', 'gcloud --algorithm, e.g. ec-sign-p384-sha384; chosen from the key type when empty.'),
  ],
  'azure-byok': [
    NAME,
    WRAPPING_KEY,
    WRAPPING_KEY_SHA256,
    { field: 'kid', label: 'Key Exchange Key id (kid)', hint: 'The id of the Key Exchange Key (KEK: the key Key Vault made for this import), e.g. https://…/keys/kek/….' },
    { field: 'algorithm', label: 'Wrapping algorithm', hint: 'Azure accepts only this one.', choices: () => EXPORT_ALGORITHMS['azure-byok'] },
    optional('vaultName', 'Key Vault name (optional)', 'For the README’s az command.'),
    optional('keyName', 'Key name in Key Vault (optional)', 'For the README’s az command.'),
  ],
  'vault-transit': [
    NAME,
    WRAPPING_KEY,
    WRAPPING_KEY_SHA256,
    { field: 'hashFunction', label: 'Hash function', hint: 'The OAEP hash Vault expects (its hash_function).', choices: () => VAULT_HASHES },
    { field: 'type', label: 'Vault key type', hint: 'The transit key type; it must fit the key’s algorithm above.', choices: (root) => VAULT_TYPES[root] },
    optional('keyName', 'Transit key name (optional)', 'Defaults to the export name.'),
    optional('mount', 'Transit mount (optional)', 'e.g. transit.'),
  ],
};

// ---- draft → plan object ------------------------------------------------------------------------

/** A typed number as the plan gets it: empty is left out, digits become a number, anything else stays text for the check to name. */
function numberOrText(s: string): number | string | undefined {
  const t = s.trim();
  if (!t) return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : t;
}

function withoutUndefined<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

export function exportToPlan(e: ExportDraft, root: RootAlgorithm): Record<string, unknown> {
  const out: Record<string, unknown> = { name: e.fields.name ?? '', kind: e.kind };
  for (const spec of EXPORT_FIELDS[e.kind]) {
    if (spec.field === 'name') continue;
    let v = e.fields[spec.field] ?? '';
    if (spec.choices && !v) v = spec.choices(root)[0] ?? '';
    if (spec.optional && !v.trim()) continue;
    out[spec.field] = v;
  }
  return out;
}

/** The plan object exactly as it will be saved (key order as in docs/plan.md). */
export function draftToPlan(d: PlanDraft): Record<string, unknown> {
  const idOf = new Map(d.participants.map((p) => [p.uid, p.id]));
  const ids = (uids: string[]) => uids.filter((u) => idOf.has(u)).map((u) => idOf.get(u)!);
  return {
    version: 1,
    id: d.id,
    title: d.title,
    participants: d.participants.map((p) => ({ id: p.id, name: p.name, role: p.role })),
    hsm: withoutUndefined({
      module: d.hsm.module,
      tokenLabel: d.hsm.tokenLabel.trim() ? d.hsm.tokenLabel : undefined,
      tokenSerial: d.hsm.tokenSerial.trim() ? d.hsm.tokenSerial : undefined,
      slot: d.hsm.slot.trim() ? numberOrText(d.hsm.slot) : undefined,
      initArgs: d.hsm.initArgs ? d.hsm.initArgs : undefined,
    }),
    key: { label: d.key.label, algorithm: d.key.algorithm, sealAfterExport: d.key.sealAfterExport },
    backup: withoutUndefined({
      groupThreshold: numberOrText(d.backup.groupThreshold),
      groups: d.backup.groups.map((g) => withoutUndefined({ threshold: numberOrText(g.threshold), custodians: ids(g.custodians) })),
      iterationExponent: numberOrText(d.backup.iterationExponent),
      passphrase: d.backup.passphrase,
    }),
    exports: d.exports.map((e) => exportToPlan(e, d.key.algorithm)),
    steps: d.steps.map((s) => ({ id: s.id, text: s.text, ackBy: ids(s.ackBy) })),
  };
}

export const planText = (d: PlanDraft): string => `${JSON.stringify(draftToPlan(d), null, 2)}\n`;

// ---- problems → fields --------------------------------------------------------------------------

/**
 * Every place in the form a problem can be shown, by JSON path. Sections (e.g. "participants") take
 * the problems about the whole list; fields take their own.
 */
export function fieldPaths(d: PlanDraft): string[] {
  const out = ['version', 'id', 'title', 'participants', 'hsm', 'hsm.module', 'hsm.tokenLabel', 'hsm.tokenSerial', 'hsm.slot', 'hsm.initArgs', 'key', 'key.label', 'key.algorithm', 'key.sealAfterExport'];
  d.participants.forEach((_, i) => out.push(`participants[${i}]`, `participants[${i}].id`, `participants[${i}].name`, `participants[${i}].role`));
  out.push('backup', 'backup.groupThreshold', 'backup.groups', 'backup.iterationExponent', 'backup.passphrase');
  d.backup.groups.forEach((_, i) => out.push(`backup.groups[${i}]`, `backup.groups[${i}].threshold`, `backup.groups[${i}].custodians`));
  out.push('exports');
  d.exports.forEach((e, i) => out.push(`exports[${i}]`, `exports[${i}].kind`, ...EXPORT_FIELDS[e.kind].map((f) => `exports[${i}].${f.field}`)));
  out.push('steps');
  d.steps.forEach((_, i) => out.push(`steps[${i}]`, `steps[${i}].id`, `steps[${i}].text`, `steps[${i}].ackBy`));
  return out;
}

/** The field a problem belongs to: the longest known path that `path` equals or lies inside; "" for the plan as a whole. */
export function anchorOf(path: string, known: readonly string[]): string {
  let best = '';
  for (const k of known) {
    if (k.length > best.length && (path === k || path.startsWith(`${k}.`) || path.startsWith(`${k}[`))) best = k;
  }
  return best;
}

/** The DOM id of the control for a path (sections: their heading). */
export const controlId = (path: string): string => `pf-${path.replace(/[^A-Za-z0-9]+/g, '-')}`;

/** How a path reads in the summary: "Group 1, threshold" rather than backup.groups[0].threshold. */
export function readablePath(path: string): string {
  if (!path) return 'The plan';
  const words: Record<string, string> = {
    id: 'id',
    title: 'title',
    name: 'name',
    role: 'role',
    module: 'PKCS#11 module',
    tokenLabel: 'token label',
    tokenSerial: 'token serial',
    slot: 'slot',
    initArgs: 'module parameters',
    label: 'key label',
    algorithm: 'algorithm',
    sealAfterExport: 'seal after export',
    groupThreshold: 'group threshold',
    threshold: 'threshold',
    custodians: 'custodians',
    iterationExponent: 'iteration exponent',
    passphrase: 'passphrase',
    ackBy: 'acknowledged by',
    text: 'text',
    kind: 'kind',
    wrappingKey: 'wrapping key file',
    importToken: 'import token file',
    wrappingKeySha256: 'wrapping key SHA-256',
    importTokenSha256: 'import token SHA-256',
    kid: 'Key Exchange Key id',
    hashFunction: 'hash function',
    type: 'Vault key type',
  };
  const indexed: Record<string, string> = { participants: 'Participant', groups: 'Group', exports: 'Export', steps: 'Step', custodians: 'custodian', ackBy: 'acknowledger' };
  const sections: Record<string, string> = { hsm: 'HSM', key: 'Key', backup: 'Backup', participants: 'Participants', groups: 'Groups', exports: 'Exports', steps: 'Steps' };
  const parts: string[] = [];
  for (const seg of path.split('.')) {
    const m = /^([A-Za-z][A-Za-z0-9]*)(?:\[(\d+)\])?/.exec(seg);
    if (!m) continue;
    const [, key, index] = m;
    if (index !== undefined) parts.push(`${indexed[key] ?? key} ${Number(index) + 1}`);
    else parts.push(sections[key] ?? words[key] ?? key);
  }
  const text = parts.join(', ');
  return text[0].toUpperCase() + text.slice(1);
}

/** Messages that only say a field is still empty; they wait until someone has been to the field. */
export const isEmptinessMessage = (message: string): boolean => /^(is required|must not be empty|must list the participants)$/.test(message);
