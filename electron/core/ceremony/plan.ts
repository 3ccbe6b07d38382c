import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { UsageError } from '../errors.ts';
import { checkExportTarget } from '../exports/target-rules.ts';
import { ROOT_ALGORITHMS, type RootAlgorithm } from '../hsm/types.ts';
import { locateJsonError } from '../util/json-location.ts';
import { ROLES } from './plan-choices.ts';
import { planExportSchema, type PlanExport } from '../exports/target-schema.ts';
import { planFiles, planPathProblem, type PlanFiles } from './plan-files.ts';
import { CEREMONY_KINDS, type LifecycleStart } from '../lifecycle/facts.ts';
import { resolvePrevious } from '../lifecycle/link.ts';

/**
 * The plan (SPEC §2): one reviewed JSON file is the whole input of a ceremony. Strict: unknown keys
 * are errors. Every rule is checked here, before any HSM is opened, and all problems are reported
 * at once, each with its JSON path.
 */

const id = z.string().regex(/^[a-z0-9][a-z0-9-]{2,62}$/, 'must match ^[a-z0-9][a-z0-9-]{2,62}$');
const participantId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'must be 1-63 letters, digits, "_", "." or "-"');
const nonEmpty = z.string().trim().min(1, 'must not be empty');

export { EXPORT_KINDS, AWS_ALGORITHMS, GCP_ALGORITHMS, VAULT_HASHES, AZURE_ALGORITHMS, ROLES } from './plan-choices.ts';



export const planSchema = z.strictObject({
  version: z.literal(1),
  /** SPEC §8: which ceremony of the key's life this is; every kind but generate names its `previous`. */
  ceremony: z.enum(CEREMONY_KINDS).default('generate'),
  previous: z
    .strictObject({
      /** Relative to the plan's folder, and (unlike every other plan path) it may leave it: docs/plan.md. */
      bundle: nonEmpty,
      statementSha256: z.string().regex(/^[0-9a-fA-F]{64}$/, 'must be a SHA-256 (64 hex digits)'),
    })
    .optional(),
  id,
  title: nonEmpty,
  participants: z
    .array(
      z.strictObject({
        id: participantId,
        name: nonEmpty,
        role: z.enum(ROLES),
        /** SHA-256 (hex) of the SPKI of the key this participant co-signs with; `ceremony cosign` refuses any other. */
        keyid: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits: the SHA-256 of the co-signing key\'s SPKI').optional(),
      }),
    )
    .min(1, 'must list the participants'),
  hsm: z.strictObject({
    module: nonEmpty,
    tokenLabel: nonEmpty.optional(),
    tokenSerial: nonEmpty.optional(),
    /** Only where label and serial both repeat (NSS, tpm2-pkcs11): the decimal slot id hsm list shows. */
    slot: z.number().int().min(0).optional(),
    /** C_Initialize reserved string, e.g. NSS softoken's "configdir='sql:DIR' certPrefix='' keyPrefix='' secmod='secmod.db' flags=". */
    initArgs: z.string().max(4096, 'must be at most 4096 characters').optional(),
  }),
  key: z.strictObject({
    label: z.string().min(1, 'must not be empty').max(64, 'must be at most 64 characters'),
    algorithm: z.enum(ROOT_ALGORITHMS as [string, ...string[]]),
    /** SPEC §2: sealed unless the plan says `false` in so many words (the report and verify warn). */
    sealAfterExport: z.boolean().default(true),
    /** Rotation: the key's version this ceremony makes (default: the previous bundle's + 1). */
    version: z.number().int().min(1).max(1_000_000).optional(),
  }),
  backup: z.strictObject({
    groupThreshold: z.number().int().min(1).max(16),
    groups: z
      .array(
        z.strictObject({
          threshold: z.number().int().min(1).max(16),
          custodians: z.array(participantId).min(1, 'a group needs at least one custodian').max(16, 'a group holds at most 16 custodians'),
        }),
      )
      .min(1, 'needs at least one group')
      .max(16, 'at most 16 groups'),
    iterationExponent: z.number().int().min(0).max(15).default(1),
    passphrase: z.boolean().default(false),
    extendable: z.boolean().default(true),
  }),
  exports: z.array(planExportSchema).default([]),
  steps: z
    .array(z.strictObject({ id: participantId, text: nonEmpty, ackBy: z.array(participantId).min(1, 'names at least one participant') }))
    .default([]),
});

export type Plan = z.infer<typeof planSchema>;
export { planExportSchema, type PlanExport };

export interface PlanProblem {
  /** JSON path, e.g. "backup.groups[0].threshold" */
  path: string;
  message: string;
}

export interface LoadedPlan {
  plan: Plan;
  /** The plan's bytes exactly as loaded (written to the bundle byte for byte). */
  bytes: Buffer;
  sha256: string;
  file: string;
  dir: string;
  /** Resolves a path from the plan relative to the plan's folder (the HSM module's; see hsm.module). */
  resolve(p: string): string;
  /**
   * The files the plan names (wrapping keys, import tokens), each read once at load and checked
   * against its pinned SHA-256; sealed, so nothing is read from disk again (plan-files.ts).
   */
  files: PlanFiles;
  /** What ceremony.started records of the key's life: kind, version, and the link to the previous bundle. */
  lifecycle: LifecycleStart;
}

function jsonPath(segments: readonly PropertyKey[]): string {
  let out = '';
  for (const s of segments) out += typeof s === 'number' ? `[${s}]` : out ? `.${String(s)}` : String(s);
  return out || '(plan)';
}

/** Schema and cross-field rules; returns every problem, never throws. */
export function checkPlanObject(
  raw: unknown,
  planDir: string,
  opts: { outDir?: string; files?: PlanFiles } = {},
): { plan?: Plan; problems: PlanProblem[]; files?: PlanFiles; lifecycle?: LifecycleStart } {
  // Destroy and re-share plans have no key section (lifecycle/*-plan.ts) and their own commands.
  const kind = (raw as { ceremony?: unknown } | null)?.ceremony;
  if (kind === 'destroy' || kind === 'reshare')
    return { problems: [{ path: 'ceremony', message: `a ${kind === 'destroy' ? 'destroy' : 're-share'} plan is run with 'keyrite ceremony ${kind}' (docs/lifecycle.md)` }] };
  const parsed = planSchema.safeParse(raw);
  if (!parsed.success) {
    return {
      problems: parsed.error.issues.map((i) => ({
        path: jsonPath(i.path),
        message:
          i.code === 'unrecognized_keys'
            ? `unknown key${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `'${k}'`).join(', ')}`
            : /received undefined$/.test(i.message)
              ? 'is required'
              : i.message.replace(/^Invalid input: /, ''),
      })),
    };
  }
  const plan = parsed.data;
  const problems: PlanProblem[] = [];
  const add = (p: string, message: string) => problems.push({ path: p, message });

  // Participants: unique ids, exactly one administrator, at least one witness.
  const byId = new Map<string, Plan['participants'][number]>();
  plan.participants.forEach((p, i) => {
    if (byId.has(p.id)) add(`participants[${i}].id`, `duplicate participant id '${p.id}'`);
    else byId.set(p.id, p);
  });
  const admins = plan.participants.filter((p) => p.role === 'administrator').length;
  if (admins !== 1) add('participants', `must have exactly one administrator (found ${admins})`);
  if (!plan.participants.some((p) => p.role === 'witness')) add('participants', 'must have at least one witness');
  // Co-signing keys: only witnesses and the administrator co-sign, each with a key of their own.
  const keyOwner = new Map<string, string>();
  plan.participants.forEach((p, i) => {
    if (p.keyid === undefined) return;
    if (p.role !== 'witness' && p.role !== 'administrator') add(`participants[${i}].keyid`, `'${p.id}' is a ${p.role}; only a witness or the administrator co-signs`);
    const other = keyOwner.get(p.keyid);
    if (other !== undefined) add(`participants[${i}].keyid`, `'${p.id}' has the same keyid as '${other}'; each co-signer has a key of their own`);
    else keyOwner.set(p.keyid, p.id);
  });

  if (!plan.hsm.tokenLabel)
    add('hsm.tokenLabel', plan.hsm.tokenSerial ? 'is required: a token is never picked by serial alone (several modules give every token the same serial)' : 'is required to find the token');
  // The HSM module is a system library (/usr/lib/...), loaded, never copied into the bundle: an
  // absolute path (and a distribution's symlinks to it) is fine, and its SHA-256 is recorded at
  // preflight. A relative module path follows the plan's path rule like every other path.
  if (!path.isAbsolute(plan.hsm.module)) {
    const bad = planPathProblem(plan.hsm.module);
    if (bad) add('hsm.module', `${JSON.stringify(plan.hsm.module).slice(1, -1)} ${bad}`);
  }

  // Backup: SLIP-39 limits; each custodian listed once and a custodian by role.
  const seen = new Map<string, string>();
  plan.backup.groups.forEach((g, gi) => {
    if (g.threshold > g.custodians.length)
      add(`backup.groups[${gi}].threshold`, `is ${g.threshold} but the group has ${g.custodians.length} custodian(s)`);
    if (g.threshold === 1 && g.custodians.length > 1)
      add(`backup.groups[${gi}].threshold`, 'may not be 1 when the group has more than one custodian (SLIP-39)');
    g.custodians.forEach((c, ci) => {
      const where = `backup.groups[${gi}].custodians[${ci}]`;
      const p = byId.get(c);
      if (!p) add(where, `'${c}' is not a participant`);
      else if (p.role !== 'custodian') add(where, `'${c}' is a ${p.role}, not a custodian`);
      if (seen.has(c)) add(where, `custodian '${c}' is already listed at ${seen.get(c)}`);
      else seen.set(c, where);
    });
  });
  // A custodian who holds no share would sign the report as a custodian of nothing: a slip in the plan.
  plan.participants.forEach((p, i) => {
    if (p.role === 'custodian' && !seen.has(p.id)) add(`participants[${i}]`, `custodian '${p.id}' is in no backup group (add them to a group, or give them another role)`);
  });
  if (plan.backup.groupThreshold > plan.backup.groups.length)
    add('backup.groupThreshold', `is ${plan.backup.groupThreshold} but there are ${plan.backup.groups.length} group(s)`);

  // Exports: unique names, and every rule the plan's files and root type decide without a token
  // (wrapping key, import token, algorithm and KMS key type against the root); the token's
  // mechanisms are judged by the HSM preflight.
  // Each file is read here, once, inside the plan's folder (plan-files.ts).
  const files = opts.files ?? planFiles(planDir);
  const names = new Set<string>();
  plan.exports.forEach((e, i) => {
    if (names.has(e.name)) add(`exports[${i}].name`, `duplicate export name '${e.name}'`);
    names.add(e.name);
    const rules = checkExportTarget(e, files, plan.key.algorithm as RootAlgorithm);
    for (const p of rules.problems) add(`exports[${i}].${p.field}`, p.message);
  });

  // Steps: unique ids, acknowledgers are participants.
  const stepIds = new Set<string>();
  plan.steps.forEach((s, i) => {
    if (stepIds.has(s.id)) add(`steps[${i}].id`, `duplicate step id '${s.id}'`);
    stepIds.add(s.id);
    s.ackBy.forEach((a, j) => {
      if (!byId.has(a)) add(`steps[${i}].ackBy[${j}]`, `'${a}' is not a participant`);
    });
  });

  // The key's life (SPEC §8): the previous bundle verified and pinned by its statement digest.
  let lifecycle: LifecycleStart | undefined;
  if (plan.ceremony === 'reshare' || plan.ceremony === 'destroy') {
    add('ceremony', `a ${plan.ceremony === 'destroy' ? 'destroy' : 're-share'} plan is run with 'keyrite ceremony ${plan.ceremony}' (docs/lifecycle.md)`);
  } else {
    const link = resolvePrevious(plan, planDir);
    for (const p of link.problems) add(p.path, p.message);
    lifecycle = link.lifecycle;
  }

  if (opts.outDir) {
    const bundle = path.join(opts.outDir, plan.id);
    if (existsSync(bundle)) add('id', `output folder ${bundle} already exists; a ceremony never overwrites a bundle`);
  }
  return { plan, problems, files, lifecycle };
}

/** Reads and checks a plan file. Throws a UsageError (exit 2) naming the file and the first problem; `problems` lists all. */
export class PlanError extends UsageError {
  constructor(readonly file: string, readonly problems: PlanProblem[]) {
    super(`plan ${file}: ${problems[0].path}: ${problems[0].message}${problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : ''}`);
  }
}

export function readPlanFile(file: string): { bytes: Buffer; raw: unknown } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(
      code === 'ENOENT' ? `plan ${file}: no such file` : code === 'EISDIR' ? `plan ${file}: is a folder, not a file` : `plan ${file}: cannot be read (${code})`,
    );
  }
  try {
    return { bytes, raw: JSON.parse(bytes.toString('utf8')) };
  } catch (err) {
    const msg = (err as Error).message;
    const at = locateJsonError(bytes.toString('utf8'));
    const where = ` at line ${at.line}, column ${at.column}`;
    throw new UsageError(`plan ${file}: malformed JSON${where}: ${msg.replace(/ in JSON at position \d+.*$/, '').replace(/, ".*" is not valid JSON$/, '').replace(/\s*\(line \d+ column \d+\)/, '')}`);
  }
}

export function loadPlan(file: string, opts: { outDir?: string } = {}): LoadedPlan {
  const abs = path.resolve(file);
  const { bytes, raw } = readPlanFile(abs);
  const dir = path.dirname(abs);
  const { plan, problems, files, lifecycle } = checkPlanObject(raw, dir, opts);
  if (!plan || problems.length || !files || !lifecycle) throw new PlanError(file, problems);
  // From here on the plan's files are what was read and checked above; nothing is read again.
  files.seal();
  return {
    files,
    lifecycle,
    plan,
    bytes,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    file: abs,
    dir,
    resolve: (p) => path.resolve(dir, p),
  };
}

/** Participants helpers used by the engine and the report. */
export function custodianOrder(plan: Plan): { group: number; member: number; custodian: string }[] {
  return plan.backup.groups.flatMap((g, gi) => g.custodians.map((c, ci) => ({ group: gi + 1, member: ci + 1, custodian: c })));
}
