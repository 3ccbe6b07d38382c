/**
 * The plan of a re-share (SPEC §8, docs/lifecycle.md): participants, hsm, steps and previous as in any
 * plan, a new `backup` layout, and no key or exports. The version re-shared is the key's newest; its
 * current backup (wrapped root, share set, backup key KCV) is the newest bundle of the lineage that
 * made one for that version: its generate or rotate ceremony, or a later re-share.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { z } from 'zod';
import { PlanError, planSchema, readPlanFile, type PlanProblem } from '../ceremony/plan.ts';
import { UsageError } from '../errors.ts';
import type { EventData } from '../transcript/events.ts';
import type { BundleFacts, LifecycleStart } from './facts.ts';
import { resolvePrevious } from './link.ts';
import { walkBack } from './lineage.ts';

const base = planSchema.shape;
export const resharePlanSchema = z.strictObject({
  version: base.version,
  ceremony: z.literal('reshare'),
  previous: z.strictObject({ bundle: z.string().trim().min(1, 'must not be empty'), statementSha256: z.string().regex(/^[0-9a-fA-F]{64}$/, 'must be a SHA-256 (64 hex digits)') }),
  id: base.id,
  title: base.title,
  participants: base.participants,
  hsm: base.hsm,
  backup: base.backup,
  steps: base.steps,
});
export type ResharePlan = z.infer<typeof resharePlanSchema>;

export interface ReshareSource {
  version: number;
  /** The bundle whose backup is current (its backup/root.wrapped, backup.split). */
  backupBundle: BundleFacts;
  split: EventData['backup.split'];
  wrappedSha256: string;
  /** The generating bundle's key.generated: the root's label, id, algorithm and identity. */
  key: EventData['key.generated'];
  generatedBy: string;
}

export interface LoadedResharePlan {
  plan: ResharePlan;
  bytes: Buffer;
  sha256: string;
  file: string;
  dir: string;
  lifecycle: LifecycleStart;
  source: ReshareSource;
}

export function checkResharePlan(raw: unknown, planDir: string): { plan?: ResharePlan; problems: PlanProblem[]; lifecycle?: LifecycleStart; source?: ReshareSource } {
  const parsed = resharePlanSchema.safeParse(raw);
  if (!parsed.success)
    return {
      problems: parsed.error.issues.map((i) => ({
        path: i.path.map((s) => (typeof s === 'number' ? `[${s}]` : `.${String(s)}`)).join('').replace(/^\./, '') || '(plan)',
        message: i.code === 'unrecognized_keys' ? `unknown key${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `'${k}'`).join(', ')}` : /received undefined$/.test(i.message) ? 'is required' : i.message.replace(/^Invalid input: /, ''),
      })),
    };
  const plan = parsed.data;
  const problems: PlanProblem[] = [];
  const add = (p: string, message: string) => problems.push({ path: p, message });
  const byId = new Map(plan.participants.map((p) => [p.id, p]));
  if (byId.size !== plan.participants.length) add('participants', 'participant ids must be unique');
  if (plan.participants.filter((p) => p.role === 'administrator').length !== 1) add('participants', 'must have exactly one administrator');
  if (!plan.participants.some((p) => p.role === 'witness')) add('participants', 'must have at least one witness');
  const seen = new Set<string>();
  plan.backup.groups.forEach((g, gi) => {
    if (g.threshold > g.custodians.length) add(`backup.groups[${gi}].threshold`, `is ${g.threshold} but the group has ${g.custodians.length} custodian(s)`);
    if (g.threshold === 1 && g.custodians.length > 1) add(`backup.groups[${gi}].threshold`, 'may not be 1 when the group has more than one custodian (SLIP-39)');
    g.custodians.forEach((c, ci) => {
      if (byId.get(c)?.role !== 'custodian') add(`backup.groups[${gi}].custodians[${ci}]`, `'${c}' is not a custodian of this plan`);
      if (seen.has(c)) add(`backup.groups[${gi}].custodians[${ci}]`, `custodian '${c}' is listed twice`);
      seen.add(c);
    });
  });
  if (plan.backup.passphrase) add('backup.passphrase', 'a SLIP-39 passphrase on re-shared shares is not supported in this release');
  if (plan.backup.groupThreshold > plan.backup.groups.length) add('backup.groupThreshold', `is ${plan.backup.groupThreshold} but there are ${plan.backup.groups.length} group(s)`);

  const link = resolvePrevious(plan, planDir);
  for (const p of link.problems) add(p.path, p.message);
  let source: ReshareSource | undefined;
  if (link.previous && link.lifecycle) {
    const { lineage, stoppedAt } = walkBack(link.previous);
    const v = link.previous.keyVersion;
    const withBackup = lineage.find((b) => b.keyVersion === v && b.backup && b.kind !== 'destroy');
    const gen = lineage.find((b) => b.keyVersion === v && b.generated && (b.kind === 'generate' || b.kind === 'rotate'));
    if (lineage.some((b) => b.destroyed.includes(v))) add('previous', `version ${v} was destroyed; there is nothing to re-share`);
    else if (!withBackup || !gen) add('previous.bundle', `the backup of version ${v} was not found behind it${stoppedAt ? `; the walk back stopped at ${stoppedAt}` : ''} (keep the key's bundles side by side)`);
    else {
      const split = withBackup.events.find((e) => e.type === 'backup.split')!.data as EventData['backup.split'];
      const wrapped = withBackup.events.find((e) => e.type === 'backup.wrapped')!.data as EventData['backup.wrapped'];
      const key = gen.events.find((e) => e.type === 'key.generated')!.data as EventData['key.generated'];
      source = { version: v, backupBundle: withBackup, split, wrappedSha256: wrapped.sha256, key, generatedBy: gen.ceremonyId };
      // Each holder of a current share acknowledges destroying their old sheet: they must be here.
      for (const c of new Set(split.shares.map((x) => x.custodian)))
        if (!byId.has(c)) add('participants', `'${c}' holds a share of the current set (${withBackup.ceremonyId}) and must be a participant of this plan, to acknowledge destroying their old sheet`);
    }
  }
  return { plan, problems, lifecycle: link.lifecycle, source };
}

export function loadResharePlan(file: string): LoadedResharePlan {
  const abs = path.resolve(file);
  const { bytes, raw } = readPlanFile(abs);
  if ((raw as { ceremony?: unknown })?.ceremony !== 'reshare') throw new UsageError(`plan ${file}: ceremony: is not "reshare"; keyrite ceremony reshare runs re-share plans only`);
  const r = checkResharePlan(raw, path.dirname(abs));
  if (!r.plan || r.problems.length || !r.lifecycle || !r.source) throw new PlanError(file, r.problems.length ? r.problems : [{ path: 'previous', message: 'no backup to re-share' }]);
  return { plan: r.plan, bytes, sha256: createHash('sha256').update(bytes).digest('hex'), file: abs, dir: path.dirname(abs), lifecycle: r.lifecycle, source: r.source };
}
