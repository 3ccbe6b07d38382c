import path from 'node:path';
import type { Command } from '../command.ts';
import { UsageError } from '../../core/errors.ts';
import { checkPlanObject, readPlanFile } from '../../core/ceremony/plan.ts';

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
    const { plan, problems } = checkPlanObject(raw, path.dirname(path.resolve(io.cwd, file)), { outDir: out });
    if (problems.length === 0 && plan) {
      io.stdout(`${file}: plan '${plan.id}' is valid (${plan.key.algorithm} root '${plan.key.label}', ${plan.backup.groups.length} backup group(s), ${plan.exports.length} export(s))\n`);
      return 0;
    }
    for (const p of problems) io.stdout(`${file}: ${p.path}: ${p.message}\n`);
    throw new UsageError(`plan ${file}: ${problems.length} problem${problems.length > 1 ? 's' : ''}, first: ${problems[0].path}: ${problems[0].message}`);
  },
};
