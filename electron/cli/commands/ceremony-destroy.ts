import path from 'node:path';
import type { Command } from '../command.ts';
import { optString, requireString, secretSource, type CliIO } from '../command.ts';
import { moduleArgsHelp } from '../module-args.ts';
import { OperationError, UsageError } from '../../core/errors.ts';
import { DestroyCeremony } from '../../core/lifecycle/destroy.ts';
import { statementDigest } from '../../core/lifecycle/facts.ts';

export const ceremonyDestroyCommand: Command = {
  name: 'ceremony destroy',
  summary: 'Destroy versions of a root key on the token and sign a certificate of destruction',
  help: `Usage: keyrite ceremony destroy --plan FILE --out DIR [--pin-env VAR] [--module-args STRING]
                                [--rehearsal [--ack-all]]

Runs a destroy plan (docs/lifecycle.md): "ceremony": "destroy", "previous" (the key's last bundle,
pinned by its statement digest) and "destroy": {"versions": [N, ...]}. Each version's key is found
by the label and CKA_ID its generating bundle recorded (walking back from previous through the
links; the key's bundles sit side by side in one folder). The plan's steps are acknowledged and each
custodian of a destroyed version acknowledges destroying their sheet; then every object of each
version (and the ceremonies' leftovers, and copies this token holds from recoveries) is destroyed
and a find must return nothing. The bundle DIR/<plan id>/ holds the transcript and a certificate of
destruction signed by a one-time signer (predicate type urn:keyrite:destruction:v1) that names where
a copy may still exist: KMS exports, other tokens, the wrapped backups in the old bundles.

Options:
  --plan FILE            the reviewed destroy plan
  --out DIR              where the bundle folder is created
  --pin-env VAR          read the token PIN from environment variable VAR (else a no-echo prompt)
${moduleArgsHelp("the plan's hsm.initArgs, when it has one, must be the same")}
  --rehearsal            a rehearsal, recorded as such
  --ack-all              rehearsals: acknowledge every step and sheet without prompting (recorded as such)

Exit status: 0 destroyed and certified; 1 the token refused or an object remained; 2 bad usage or
a bad plan.`,
  options: {
    plan: { type: 'string' },
    out: { type: 'string' },
    'pin-env': { type: 'string' },
    'module-args': { type: 'string' },
    rehearsal: { type: 'boolean' },
    'ack-all': { type: 'boolean' },
  },
  async run(args, io) {
    return runDestroy(
      { cmd: 'ceremony destroy', planFile: path.resolve(io.cwd, requireString(args, 'ceremony destroy', 'plan')), outDir: path.resolve(io.cwd, requireString(args, 'ceremony destroy', 'out')),
        rehearsal: Boolean(args.values.rehearsal), ackAll: Boolean(args.values['ack-all']), pinEnv: optString(args, 'pin-env'), moduleArgs: optString(args, 'module-args') },
      io,
    );
  },
};

/** A destroy plan, run by `ceremony destroy` or by `ceremony run` (which dispatches on the plan's kind). */
export async function runDestroy(o: { cmd: string; planFile: string; outDir: string; rehearsal: boolean; ackAll: boolean; pinEnv?: string; moduleArgs?: string }, io: CliIO): Promise<number> {
  const { cmd, ackAll, rehearsal } = o;
  if (ackAll && !rehearsal) throw new UsageError(`${cmd}: --ack-all is for rehearsals only; add --rehearsal`);
  if (!ackAll && !io.stdinIsTTY) throw new UsageError(`${cmd}: steps and sheets are acknowledged at a terminal prompt; without a terminal, give --rehearsal --ack-all`);
  const c = DestroyCeremony.load(o.planFile, { outDir: o.outDir, rehearsal, frontEnd: 'cli', moduleArgs: o.moduleArgs });
  const pin = secretSource(io, cmd, 'pin-env', o.pinEnv, 'Token PIN');
  try {
    const token = c.open(await pin());
    io.stdout(`Token '${token.label}' serial ${token.serialNumber}. To destroy: ${c.targets.map((t) => `version ${t.version} '${t.label}' (${t.bundle.ceremonyId})`).join(', ')}\n`);
    c.begin();
    const ask = async (question: string) => {
      const a = (await io.prompt(`${question} Type yes: `)).trim().toLowerCase();
      if (a !== 'yes') throw new OperationError(`${cmd}: not acknowledged ('${question}'); nothing was destroyed`);
    };
    for (const p of c.loaded.plan.participants) {
      if (!ackAll) await ask(`${p.name} (${p.id}, ${p.role}) is present.`);
      c.checkIn(p.id);
    }
    for (const s of c.loaded.plan.steps) {
      if (!ackAll) await ask(`${s.ackBy.join(', ')}: ${s.text}`);
      c.acknowledge(s.id, ackAll ? 'ack-all' : 'prompt');
    }
    for (const sh of c.sheets) {
      if (!ackAll) await ask(`${sh.custodian}: I destroyed my sheet(s) ${sh.shares.map((x) => `of version ${x.version} (group ${x.group}, member ${x.member}, check ${x.checkValue})`).join(', ')}.`);
      c.sheetDestroyed(sh.custodian, ackAll ? 'ack-all' : 'prompt');
    }
    c.destroyVersions();
    const cert = c.certify();
    const r = c.finish();
    io.stdout(`Destroyed:   ${cert.versions.map((v) => `version ${v.version} '${v.label}' (${v.objectsDestroyed} object(s), gone)`).join(', ')}\n`);
    for (const x of cert.copiesRemaining) io.stdout(`Copy may remain: ${x.where} — ${x.detail}\n`);
    io.stdout(`Bundle:      ${r.bundleDir}\nStatement:   ${statementDigest(r.bundleDir)}\nCheck it:    keyrite verify ${r.bundleDir}\n`);
    return 0;
  } catch (err) {
    c.abort(err instanceof Error ? err.message : String(err), 'destroy');
    throw err;
  } finally {
    c.close();
  }
}
