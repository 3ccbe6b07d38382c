import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from '../command.ts';
import { UsageError } from '../../core/errors.ts';
import { checkPlanObject, readPlanFile, type PlanProblem } from '../../core/ceremony/plan.ts';
import { checkDestroyPlan } from '../../core/lifecycle/destroy-plan.ts';
import { checkResharePlan } from '../../core/lifecycle/reshare-plan.ts';

export const planCheck: Command = {
  name: 'plan check',
  summary: 'Validate a ceremony plan without touching any HSM',
  help: `Usage: keyrite plan check FILE [--out DIR]

Checks plan.json against the schema and every rule of docs/plan.md (participants, backup layout,
exports, steps, referenced files) without opening any HSM. Prints every problem, one per line,
as "FILE: json.path: message". With --out, also checks that the bundle folder DIR/<id> does not exist yet.
Exit 0 when the plan is valid, 2 when it is not.`,
  options: { out: { type: 'string' } },
  positionals: { min: 1, max: 1, names: 'FILE' },
  async run(args, io) {
    const file = args.positionals[0];
    const { raw } = readPlanFile(path.resolve(io.cwd, file));
    const out = typeof args.values.out === 'string' ? path.resolve(io.cwd, args.values.out) : undefined;
    const planDir = path.dirname(path.resolve(io.cwd, file));
    let problems: PlanProblem[];
    if ((raw as { ceremony?: unknown } | null)?.ceremony === 'destroy') {
      // A destroy plan (docs/lifecycle.md): its own schema, and the versions found through the lineage.
      const d = checkDestroyPlan(raw, planDir);
      problems = d.problems;
      if (out && d.plan && existsSync(path.join(out, d.plan.id))) problems.push({ path: 'id', message: `output folder ${path.join(out, d.plan.id)} already exists; a ceremony never overwrites a bundle` });
      if (problems.length === 0 && d.plan) {
        io.stdout(`${file}: destroy plan '${d.plan.id}' is valid (destroys ${d.targets.map((t) => `version ${t.version} '${t.label}' of ${t.bundle.ceremonyId}`).join(', ')})\n`);
        return 0;
      }
    } else if ((raw as { ceremony?: unknown } | null)?.ceremony === 'reshare') {
      const r = checkResharePlan(raw, planDir);
      problems = r.problems;
      if (out && r.plan && existsSync(path.join(out, r.plan.id))) problems.push({ path: 'id', message: `output folder ${path.join(out, r.plan.id)} already exists; a ceremony never overwrites a bundle` });
      if (problems.length === 0 && r.plan && r.source) {
        io.stdout(`${file}: re-share plan '${r.plan.id}' is valid (version ${r.source.version} of ${r.source.generatedBy}, shares of set ${r.source.split.identifier} to ${r.plan.backup.groups.length} new group(s))\n`);
        return 0;
      }
    } else {
      const checked = checkPlanObject(raw, planDir, { outDir: out });
      problems = checked.problems;
      const plan = checked.plan;
      if (problems.length === 0 && plan) {
        const kind = plan.ceremony === 'rotate' ? `rotation to version ${checked.lifecycle?.keyVersion} of ${checked.lifecycle?.previous?.ceremonyId}, ` : '';
        io.stdout(`${file}: plan '${plan.id}' is valid (${kind}${plan.key.algorithm} root '${plan.key.label}', ${plan.backup.groups.length} backup group(s), ${plan.exports.length} export(s))\n`);
        return 0;
      }
    }
    for (const p of problems) io.stdout(`${file}: ${p.path}: ${p.message}\n`);
    throw new UsageError(`plan ${file}: ${problems.length} problem${problems.length > 1 ? 's' : ''}, first: ${problems[0].path}: ${problems[0].message}`);
  },
};
