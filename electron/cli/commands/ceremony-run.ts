import path from 'node:path';
import type { Command } from '../command.ts';
import { optString, requireString } from '../command.ts';
import { signerRoleText, statementAnchorText } from '../anchor.ts';
import { checkRunMode, runHeadlessCeremony } from '../ceremony-runner.ts';
import { runReshare, type ReshareRunResult } from '../reshare-runner.ts';
import { runDestroy } from './ceremony-destroy.ts';
import type { CliIO } from '../command.ts';

export function printReshare(io: CliIO, r: ReshareRunResult, rehearsal: boolean): void {
  io.stdout(`\nRe-shared:   ${r.sheets.length} new share(s): ${r.sheets.join(', ')}\nRetired:     ${r.retired}\nBundle:      ${r.bundleDir}\n`);
  if (rehearsal) io.stdout(`REHEARSAL:   this bundle is a rehearsal, not a production ceremony\n`);
  io.stdout(`\n${statementAnchorText(r.statementSha256)}\nCheck it:    keyrite verify ${r.bundleDir} --expect-statement ${r.statementSha256}\n`);
}
import { UsageError } from '../../core/errors.ts';
import { MODULE_ARGS_OPTION, moduleArgs, moduleArgsHelp } from '../module-args.ts';
import { readPlanFile } from '../../core/ceremony/plan.ts';

/** The plan's `ceremony` kind, or undefined when the plan cannot be read (the generate path then says why). */
function planKind(file: string): unknown {
  try {
    return (readPlanFile(file).raw as { ceremony?: unknown } | null)?.ceremony;
  } catch {
    return undefined;
  }
}

export const ceremonyRun: Command = {
  name: 'ceremony run',
  summary: 'Run a scripted, headless ceremony from a plan',
  help: `Usage: keyrite ceremony run --plan FILE --out DIR --printer QUEUE [options]
       keyrite ceremony run --rehearsal --plan FILE --out DIR --shares-out DIR
                            [--confirm-from DIR] [--ack-all] [options]
       keyrite ceremony run --rehearsal --plan FILE --out DIR --printer QUEUE [--ack-all] [options]

Runs the ceremony the plan describes on the HSM it names; one command for every kind of plan
("ceremony": generate, rotate, reshare or destroy; docs/lifecycle.md). A generate or rotate plan:
preflight, login, transcript signer, root key, verification, SLIP-39 backup, share sheets,
confirmation, test recovery, exports, signing. A re-share plan: the PIN, then the current custodians
type their shares at no-echo word prompts (a rehearsal may give --shares FILE), the root is
re-wrapped inside the token under a new backup key, the new sheets are printed and confirmed one
custodian at a time and test-recovered, and each holder of an old share acknowledges destroying
their old sheet. A destroy plan: as keyrite ceremony destroy (no sheets, no --printer).
The bundle is written to DIR/<plan id>/ (never over an existing one).

A production run prints each custodian's sheet on the CUPS queue QUEUE and has the custodian type
the words back before the next sheet prints. Before any key is generated the queue is checked: it
exists and is enabled, its device is local (usb:, parallel:, serial:, or file:/dev/null for tests),
the CUPS server is this machine's and keeps no job files (PreserveJobFiles No, PreserveJobHistory No).
Share words never reach a file or the terminal (docs/printing.md).

Options:
  --plan FILE            the reviewed plan.json
  --out DIR              where the bundle folder is created
  --printer QUEUE        the CUPS queue the share sheets are printed on (required without --rehearsal)
  --rehearsal            a rehearsal: the bundle, report, sheets and verify say REHEARSAL; the only
                         way to use --shares-out, --confirm-from and --ack-all
  --shares-out DIR       rehearsals: write each sheet as share-<group>-<member>-<custodian>.html and .txt
                         (they hold the share's words) instead of printing
  --shares FILE          rehearsals of a re-share: the current custodians' shares from FILE, one
                         mnemonic per line (else typed at a no-echo prompt)
  --confirm-from DIR     rehearsals: read each custodian's confirmation from DIR/share-*.txt instead of
                         a no-echo terminal prompt (the transcript records which)
  --ack-all              rehearsals: acknowledge every plan step (and a live network) without prompting,
                         and take no check-ins (recorded as such)
  --ack-network          go on although a network interface is up, without the typed acknowledgement
                         (recorded as an exception at step "network"; without it, a terminal asks
                         and a run without one stops before anything is created)
  --pin-env VAR          read the token PIN from environment variable VAR (else a no-echo prompt)
  --passphrase-env VAR   read the SLIP-39 passphrase from VAR when the plan asks for one
${moduleArgsHelp("the plan's hsm.initArgs, when it has one, must be the same")}
  --debug                show a stack trace on failure`,
  options: {
    plan: { type: 'string' },
    out: { type: 'string' },
    printer: { type: 'string' },
    rehearsal: { type: 'boolean' },
    'shares-out': { type: 'string' },
    'confirm-from': { type: 'string' },
    shares: { type: 'string' },
    'ack-all': { type: 'boolean' },
    'ack-network': { type: 'boolean' },
    'pin-env': { type: 'string' },
    'passphrase-env': { type: 'string' },
    ...MODULE_ARGS_OPTION,
  },
  async run(args, io) {
    const cmd = 'ceremony run';
    const rehearsal = Boolean(args.values.rehearsal);
    const sharesOut = optString(args, 'shares-out');
    const printer = optString(args, 'printer');
    const shares = optString(args, 'shares');
    const ackAll = Boolean(args.values['ack-all']);
    const confirmFrom = optString(args, 'confirm-from');
    // Rehearsal-only flags are refused before the plan is even read: exit 2, one line.
    if (!rehearsal) checkRunMode({ rehearsal, sharesOut, confirmFrom, ackAll, printer: printer ?? '' });
    if (shares !== undefined && !rehearsal) throw new UsageError(`${cmd}: --shares is for rehearsals only; add --rehearsal, or let the current custodians type their shares at the prompt`);
    const planFile = path.resolve(io.cwd, requireString(args, cmd, 'plan'));
    const kind = planKind(planFile);
    const resolved = (f: string | undefined) => (f === undefined ? undefined : path.resolve(io.cwd, f));
    if (kind === 'destroy') {
      const extra = [['printer', printer], ['shares-out', sharesOut], ['confirm-from', confirmFrom], ['shares', shares]].find(([, v]) => v !== undefined);
      if (extra) throw new UsageError(`${cmd}: --${extra[0]} has no use in a destroy ceremony (no shares are made or read)`);
      return runDestroy({ cmd, planFile, outDir: path.resolve(io.cwd, requireString(args, cmd, 'out')), rehearsal, ackAll, pinEnv: optString(args, 'pin-env'), moduleArgs: moduleArgs(args) }, io);
    }
    checkRunMode({ rehearsal, sharesOut, printer, confirmFrom, ackAll });
    if (printer !== undefined && !/^[A-Za-z0-9_.@+-]{1,127}$/.test(printer)) throw new UsageError(`ceremony run: --printer ${JSON.stringify(printer)} is not a CUPS queue name`);
    if (kind === 'reshare') {
      const r = await runReshare(
        {
          planFile, outDir: path.resolve(io.cwd, requireString(args, cmd, 'out')), rehearsal, printer, sharesFile: resolved(shares), sharesOut: resolved(sharesOut),
          confirmFrom: resolved(confirmFrom), ackAll, ackNetwork: Boolean(args.values['ack-network']), pinEnv: optString(args, 'pin-env'), passphraseEnv: optString(args, 'passphrase-env'), moduleArgs: moduleArgs(args),
        },
        io,
      );
      printReshare(io, r, rehearsal);
      return 0;
    }
    if (shares !== undefined) throw new UsageError(`${cmd}: --shares reads the current custodians' shares of a re-share; plan ${planFile} is not a re-share plan`);
    const r = await runHeadlessCeremony(
      {
        planFile,
        outDir: path.resolve(io.cwd, requireString(args, cmd, 'out')),
        rehearsal,
        printer,
        sharesOut: sharesOut !== undefined ? path.resolve(io.cwd, sharesOut) : undefined,
        confirmFrom: optString(args, 'confirm-from') && path.resolve(io.cwd, optString(args, 'confirm-from')!),
        ackAll: Boolean(args.values['ack-all']),
        ackNetwork: Boolean(args.values['ack-network']),
        pinEnv: optString(args, 'pin-env'),
        passphraseEnv: optString(args, 'passphrase-env'),
        moduleArgs: moduleArgs(args),
        frontEnd: 'cli',
      },
      io,
    );
    io.stdout(`\nBundle:      ${r.bundleDir}\nRoot key:    ${r.root.label} (${r.root.algorithm}), fingerprint ${r.root.fingerprint}\nChain head:  ${r.chainHead}\n`);
    for (const s of r.signers) io.stdout(`Signed by:   ${s.keyid} (${signerRoleText(s.role)})\n`);
    if (rehearsal) io.stdout(`REHEARSAL:   this bundle is a rehearsal, not a production ceremony\n`);
    io.stdout(`\n${statementAnchorText(r.statementSha256)}\n`);
    io.stdout(`Check it:    keyrite verify ${r.bundleDir} --expect-statement ${r.statementSha256}\n`);
    return 0;
  },
};
