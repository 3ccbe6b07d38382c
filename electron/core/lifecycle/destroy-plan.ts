/**
 * The plan of a destroy ceremony (SPEC §8, docs/lifecycle.md). It shares the generate plan's
 * participants, hsm, steps and previous, has no key, backup or exports, and names the versions to
 * destroy. Each version is found by walking back from `previous.bundle` through the links: bundles
 * keep their own folders named by ceremony id, side by side, so the bundle of the ceremony a link
 * names is `<folder of the linking bundle>/<ceremonyId>`, and it must have the linked statement
 * digest and verify. The version's key is the label and CKA_ID of that bundle's key.generated.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { z } from 'zod';
import { PlanError, planSchema, readPlanFile, type PlanProblem } from '../ceremony/plan.ts';
import { UsageError } from '../errors.ts';
import type { BundleFacts, LifecycleStart } from './facts.ts';
import { resolvePrevious } from './link.ts';
import { walkBack } from './lineage.ts';

const base = planSchema.shape;
export const destroyPlanSchema = z.strictObject({
  version: base.version,
  ceremony: z.literal('destroy'),
  previous: z.strictObject({ bundle: z.string().trim().min(1, 'must not be empty'), statementSha256: z.string().regex(/^[0-9a-fA-F]{64}$/, 'must be a SHA-256 (64 hex digits)') }),
  id: base.id,
  title: base.title,
  participants: base.participants,
  hsm: base.hsm,
  destroy: z.strictObject({ versions: z.array(z.number().int().min(1)).min(1, 'names at least one version') }),
  steps: base.steps,
});
export type DestroyPlan = z.infer<typeof destroyPlanSchema>;

/** A version to destroy, with what the lineage's bundles say of it. */
export interface DestroyTarget {
  version: number;
  label: string;
  idHex: string;
  algorithm: string;
  fingerprint: string;
  /** The generating ceremony's bundle facts (its exports, backup, token, recoveries' folder). */
  bundle: BundleFacts;
  /** Every bundle that made a backup of this version, newest first: re-shares, then the generating one. */
  backups: BundleFacts[];
}

export interface LoadedDestroyPlan {
  plan: DestroyPlan;
  bytes: Buffer;
  sha256: string;
  file: string;
  dir: string;
  lifecycle: LifecycleStart;
  targets: DestroyTarget[];
  /** Every bundle of the lineage found walking back from previous, newest first. */
  lineage: BundleFacts[];
}

export function checkDestroyPlan(raw: unknown, planDir: string): { plan?: DestroyPlan; problems: PlanProblem[]; lifecycle?: LifecycleStart; targets: DestroyTarget[]; lineage: BundleFacts[] } {
  const parsed = destroyPlanSchema.safeParse(raw);
  if (!parsed.success)
    return {
      problems: parsed.error.issues.map((i) => ({
        path: i.path.map((s) => (typeof s === 'number' ? `[${s}]` : `.${String(s)}`)).join('').replace(/^\./, '') || '(plan)',
        message: i.code === 'unrecognized_keys' ? `unknown key${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `'${k}'`).join(', ')}` : /received undefined$/.test(i.message) ? 'is required' : i.message.replace(/^Invalid input: /, ''),
      })),
      targets: [],
      lineage: [],
    };
  const plan = parsed.data;
  const problems: PlanProblem[] = [];
  const add = (p: string, message: string) => problems.push({ path: p, message });
  const ids = new Set<string>();
  plan.participants.forEach((p, i) => {
    if (ids.has(p.id)) add(`participants[${i}].id`, `duplicate participant id '${p.id}'`);
    ids.add(p.id);
  });
  if (plan.participants.filter((p) => p.role === 'administrator').length !== 1) add('participants', 'must have exactly one administrator');
  if (!plan.participants.some((p) => p.role === 'witness')) add('participants', 'must have at least one witness');
  if (!plan.hsm.tokenLabel && !plan.hsm.tokenSerial) add('hsm', 'needs tokenLabel or tokenSerial to find the token');
  plan.steps.forEach((s, i) => s.ackBy.forEach((a, j) => !ids.has(a) && add(`steps[${i}].ackBy[${j}]`, `'${a}' is not a participant`)));

  const link = resolvePrevious(plan, planDir);
  for (const p of link.problems) add(p.path, p.message);
  const targets: DestroyTarget[] = [];
  let lineage: BundleFacts[] = [];
  if (link.previous && link.lifecycle) {
    const walked = walkBack(link.previous);
    lineage = walked.lineage;
    const alreadyDestroyed = new Set(lineage.flatMap((b) => b.destroyed));
    plan.destroy.versions.forEach((v, i) => {
      const where = `destroy.versions[${i}]`;
      if (plan.destroy.versions.indexOf(v) !== i) return add(where, `version ${v} is listed twice`);
      if (alreadyDestroyed.has(v)) return add(where, `version ${v} was already destroyed (${lineage.find((b) => b.destroyed.includes(v))!.ceremonyId})`);
      const b = lineage.find((x) => x.generated && x.keyVersion === v && (x.kind === 'generate' || x.kind === 'rotate'));
      if (!b)
        return add(where, `version ${v} is not in the lineage found behind previous.bundle${walked.stoppedAt ? `; the walk back stopped at ${walked.stoppedAt}` : ''} (keep the key's bundles side by side in one folder)`);
      const backups = lineage.filter((x) => x.keyVersion === v && x.backup && (x === b || x.kind === 'reshare'));
      targets.push({ version: v, label: b.generated!.label, idHex: b.generated!.id, algorithm: b.generated!.algorithm, fingerprint: b.generated!.fingerprint, bundle: b, backups });
      // The custodians of a destroyed version's current shares acknowledge destroying their sheets: they must be here.
      for (const c of new Set(backups[0]?.backup?.custodians ?? []))
        if (!plan.participants.some((p) => p.id === c && p.role === 'custodian'))
          add('participants', `'${c}' held a share of version ${v} (${b.ceremonyId}) and must be a custodian of this plan, to acknowledge destroying their sheet`);
    });
  }
  return { plan, problems, lifecycle: link.lifecycle, targets, lineage };
}

export function loadDestroyPlan(file: string): LoadedDestroyPlan {
  const abs = path.resolve(file);
  const { bytes, raw } = readPlanFile(abs);
  const dir = path.dirname(abs);
  if ((raw as { ceremony?: unknown })?.ceremony !== 'destroy') throw new UsageError(`plan ${file}: ceremony: is not "destroy"; keyrite ceremony destroy runs destroy plans only`);
  const r = checkDestroyPlan(raw, dir);
  if (!r.plan || r.problems.length || !r.lifecycle) throw new PlanError(file, r.problems);
  return { plan: r.plan, bytes, sha256: createHash('sha256').update(bytes).digest('hex'), file: abs, dir, lifecycle: r.lifecycle, targets: r.targets, lineage: r.lineage };
}
