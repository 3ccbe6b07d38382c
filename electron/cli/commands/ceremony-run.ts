import path from 'node:path';
import type { Command } from '../command.ts';
import { optString, requireString } from '../command.ts';
import { signerRoleText, statementAnchorText } from '../anchor.ts';
import { checkRunMode, runHeadlessCeremony } from '../ceremony-runner.ts';
import { UsageError } from '../../core/errors.ts';
import { MODULE_ARGS_OPTION, moduleArgs, moduleArgsHelp } from '../module-args.ts';

export const ceremonyRun: Command = {
  name: 'ceremony run',
  summary: 'Run a scripted, headless ceremony from a plan',
  help: `Usage: keyrite ceremony run --plan FILE --out DIR --printer QUEUE [options]
       keyrite ceremony run --rehearsal --plan FILE --out DIR --shares-out DIR
                            [--confirm-from DIR] [--ack-all] [options]
       keyrite ceremony run --rehearsal --plan FILE --out DIR --printer QUEUE [--ack-all] [options]

Runs the ceremony the plan describes on the HSM it names: preflight, login, transcript signer,
root key, verification, SLIP-39 backup, share sheets, confirmation, test recovery, exports,
signing. The bundle is written to DIR/<plan id>/ (never over an existing one).

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
    // Refused before the plan is even read: exit 2, one line.
    checkRunMode({ rehearsal, sharesOut, printer, confirmFrom: optString(args, 'confirm-from'), ackAll: Boolean(args.values['ack-all']) });
    if (printer !== undefined && !/^[A-Za-z0-9_.@+-]{1,127}$/.test(printer)) throw new UsageError(`ceremony run: --printer ${JSON.stringify(printer)} is not a CUPS queue name`);
    const r = await runHeadlessCeremony(
      {
        planFile: path.resolve(io.cwd, requireString(args, cmd, 'plan')),
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
