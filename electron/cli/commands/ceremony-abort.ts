import path from 'node:path';
import type { Command } from '../command.ts';
import { MODULE_ARGS_OPTION, moduleArgs, moduleArgsHelp } from '../module-args.ts';
import { optString, secretSource } from '../command.ts';
import { UsageError } from '../../core/errors.ts';
import { abortCeremony, type AbortPlan } from '../../core/ceremony/abort.ts';

function describePlan(p: AbortPlan): string {
  const out = [`Ceremony ${p.ceremonyId}: ${p.status.summary}`];
  if (p.sealed) out.push(`The bundle is already closed by a signed abort; only leftover objects are removed, nothing is written.`);
  if (p.token) out.push(`Token '${p.token.label}' serial ${p.token.serialNumber} (${p.token.modulePath}):`);
  for (const t of p.targets) {
    out.push(`  ${t.found.length ? 'REMOVE' : 'absent'}  ${t.key.role} '${t.key.label}' id ${t.key.id}${t.found.length ? ` (${t.found.map((o) => `${o.class}${o.token ? '' : ' session'}`).join(' + ')})` : ''}`);
  }
  if (p.targets.length === 0) out.push('  The transcript announced no key: nothing of this ceremony can be on the token.');
  out.push(p.willSign ? 'The ceremony signer signs the partial bundle (marked aborted), then is removed.' : `No signed statement: ${p.noSignReason}.`);
  return out.join('\n') + '\n';
}

export const ceremonyAbortCommand: Command = {
  name: 'ceremony abort',
  summary: 'End a ceremony that stopped early: record the abort, remove its keys, sign what exists',
  help: `Usage: keyrite ceremony abort BUNDLE --reason TEXT [--pin-env VAR] [--yes] [--module PATH]
                             [--module-args STRING]

For a ceremony that did not complete (a crash, a removed token, a decision in the room):
  1. records ceremony.aborted in the transcript (the reason and the step reached);
  2. logs in to the token the transcript names (hsm.selected: module path, token label, serial and slot) and,
     once the administrator confirms, removes every object the transcript says this ceremony
     created (key.generating: the root and the transcript signer, private and public halves),
     recording each removal;
  3. when the root key and the signer were recorded as generated and the signer is still on the
     token, the signer signs transcript.dsse.json over the partial bundle (predicate.aborted true)
     and is removed right after. \`keyrite verify\` reports the bundle as INCOMPLETE (aborted).
Refuses a completed ceremony. Running it again removes any leftover object.

Options:
  --reason TEXT          why the ceremony is abandoned (required unless the transcript already
                         records ceremony.aborted); goes into the transcript, so never put a secret in it
  --pin-env VAR          read the token PIN from environment variable VAR (else a no-echo prompt)
  --yes                  do not ask; otherwise the administrator types the ceremony id to confirm
  --module PATH          the PKCS#11 module file, when it is not where hsm.selected says
${moduleArgsHelp('default: those hsm.selected recorded')}

Exit status: 0 aborted and cleaned up; 1 refused or failed (the message says what to do); 2 bad usage.`,
  options: { reason: { type: 'string' }, 'pin-env': { type: 'string' }, yes: { type: 'boolean' }, module: { type: 'string' }, ...MODULE_ARGS_OPTION },
  positionals: { min: 1, max: 1, names: 'BUNDLE' },
  async run(args, io) {
    const cmd = 'ceremony abort';
    const bundleDir = path.resolve(io.cwd, args.positionals[0]);
    const pinEnv = optString(args, 'pin-env');
    const yes = Boolean(args.values.yes);
    if (!yes && !io.stdinIsTTY) throw new UsageError(`${cmd}: confirmation is typed at a terminal; without one, give --yes`);
    const modulePath = optString(args, 'module');
    const r = await abortCeremony(bundleDir, {
      reason: optString(args, 'reason'),
      modulePath: modulePath && path.resolve(io.cwd, modulePath),
      moduleArgs: moduleArgs(args),
      // Asked for only when the token is needed.
      pin: () => secretSource(io, cmd, 'pin-env', pinEnv, 'token PIN')(),
      confirm: async (plan) => {
        io.stdout(describePlan(plan));
        if (yes) return true;
        const typed = await io.prompt(`Type the ceremony id (${plan.ceremonyId}) to confirm: `);
        return typed.trim() === plan.ceremonyId;
      },
    });
    for (const d of r.destroyed) io.stdout(`removed ${d.objects} object(s): ${d.role} '${d.label}' id ${d.id}\n`);
    io.stdout(`${r.signed ? 'Signed: transcript.dsse.json (aborted)' : 'Not signed'}; ${r.eventsAdded} event(s) added to the transcript.\n`);
    io.stdout(`verify: ${r.verdict}\n`);
    return 0;
  },
};
