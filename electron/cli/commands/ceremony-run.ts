import path from 'node:path';
import type { Command } from '../command.ts';
import { optString, requireString } from '../command.ts';
import { runHeadlessCeremony } from '../ceremony-runner.ts';
import { MODULE_ARGS_HELP, MODULE_ARGS_OPTION, moduleArgs } from '../module-args.ts';

export const ceremonyRun: Command = {
  name: 'ceremony run',
  summary: 'Run a scripted, headless ceremony from a plan',
  help: `Usage: keyrite ceremony run --plan FILE --out DIR --shares-out DIR [options]

Runs the ceremony the plan describes on the HSM it names: preflight, login, transcript signer,
root key, verification, SLIP-39 backup, share sheets, confirmation, test recovery, exports,
signing. The bundle is written to DIR/<plan id>/ (never over an existing one).

Options:
  --plan FILE            the reviewed plan.json
  --out DIR              where the bundle folder is created
  --shares-out DIR       where each custodian's sheet is written as share-<group>-<member>-<custodian>.html
                         and .txt (rehearsal outputs: they hold the share's words)
  --confirm-from DIR     rehearsals: read each custodian's confirmation from DIR/share-*.txt instead of
                         a no-echo terminal prompt (the transcript records which)
  --ack-all              rehearsals: acknowledge every plan step (and a live network) without prompting,
                         and take no check-ins (recorded as such)
  --ack-network          go on although a network interface is up, without the typed acknowledgement
                         (recorded as an exception at step "network"; without it, a terminal asks
                         and a run without one stops before anything is created)
  --pin-env VAR          read the token PIN from environment variable VAR (else a no-echo prompt)
  --passphrase-env VAR   read the SLIP-39 passphrase from VAR when the plan asks for one
${MODULE_ARGS_HELP} (the plan's hsm.initArgs, when given, must agree)
  --debug                show a stack trace on failure`,
  options: {
    plan: { type: 'string' },
    out: { type: 'string' },
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
    const r = await runHeadlessCeremony(
      {
        planFile: path.resolve(io.cwd, requireString(args, cmd, 'plan')),
        outDir: path.resolve(io.cwd, requireString(args, cmd, 'out')),
        sharesOut: path.resolve(io.cwd, requireString(args, cmd, 'shares-out')),
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
    for (const s of r.signers) io.stdout(`Signed by:   ${s.keyid} (${s.role})\n`);
    io.stdout(`Check it:    keyrite verify ${r.bundleDir}\n`);
    return 0;
  },
};
