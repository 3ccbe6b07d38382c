import path from 'node:path';
import type { Command } from '../command.ts';
import { optString, requireString } from '../command.ts';
import { moduleArgsHelp } from '../module-args.ts';
import { runReshare } from '../reshare-runner.ts';
import { printReshare } from './ceremony-run.ts';

/** The earlier name of `ceremony run` with a re-share plan; it runs the same code (electron/cli/reshare-runner.ts). */
export const ceremonyReshareCommand: Command = {
  name: 'ceremony reshare',
  summary: "Re-share a root key's backup to new custodians (ceremony run with a re-share plan)",
  help: `Usage: keyrite ceremony reshare --plan FILE --out DIR --printer QUEUE [--pin-env VAR]
                              [--module-args STRING]
       keyrite ceremony reshare --rehearsal --plan FILE --out DIR --shares-out DIR [--shares FILE]
                              [--ack-all] [...]

The same as keyrite ceremony run with a re-share plan (docs/lifecycle.md): "ceremony": "reshare",
"previous" (the key's last bundle, pinned by its statement digest) and the new "backup" layout.
The PIN and the token are checked first; then a threshold of the current custodians type their
shares at no-echo word prompts (one mistyped word is located and asked for again) and they must
combine to the old backup key with its recorded KCV before any bundle exists. The root is
unwrapped from the current backup/root.wrapped inside the token as a session object, re-wrapped
under a new backup key split for the new layout, and the old wrapped blob is listed as retired.
The new sheets are printed on the checked CUPS queue one custodian at a time, each confirmed by
re-entry before the next, then test-recovered; each holder of an old share acknowledges
destroying their old sheet (the old shares still open every copy of the old root.wrapped).

Options:
  --plan FILE            the reviewed re-share plan
  --out DIR              where the bundle folder is created
  --printer QUEUE        the CUPS queue the new sheets are printed on (required without --rehearsal)
  --rehearsal            a rehearsal: the bundle says REHEARSAL; the only way to use the next four
  --shares FILE          rehearsals: the current shares from FILE, one mnemonic per line (# lines ignored)
  --shares-out DIR       rehearsals: the new sheets as files (they hold the words); unlike ceremony run,
                         they are confirmed from those files unless --confirm-from names another folder
  --confirm-from DIR     rehearsals: read each confirmation from DIR/share-*.txt
  --ack-all              rehearsals: acknowledge the plan's steps, and each old custodian's destruction
                         of their old sheet, without prompting (recorded as such)
  --ack-network          go on although a network interface is up (recorded as an exception)
  --pin-env VAR          read the token PIN from environment variable VAR (else a no-echo prompt)
  --passphrase-env VAR   the SLIP-39 passphrase of the current shares, when they have one
${moduleArgsHelp("the plan's hsm.initArgs, when it has one, must be the same")}

Exit status: 0 re-shared; 1 the old shares do not open the backup, the printer or the token refused;
2 bad usage or plan.`,
  options: {
    plan: { type: 'string' },
    out: { type: 'string' },
    printer: { type: 'string' },
    shares: { type: 'string' },
    'shares-out': { type: 'string' },
    'confirm-from': { type: 'string' },
    rehearsal: { type: 'boolean' },
    'ack-all': { type: 'boolean' },
    'ack-network': { type: 'boolean' },
    'pin-env': { type: 'string' },
    'passphrase-env': { type: 'string' },
    'module-args': { type: 'string' },
  },
  async run(args, io) {
    const cmd = 'ceremony reshare';
    const rehearsal = Boolean(args.values.rehearsal);
    const resolved = (f: string | undefined) => (f === undefined ? undefined : path.resolve(io.cwd, f));
    const sharesOut = resolved(optString(args, 'shares-out'));
    const r = await runReshare(
      {
        planFile: path.resolve(io.cwd, requireString(args, cmd, 'plan')), outDir: path.resolve(io.cwd, requireString(args, cmd, 'out')), rehearsal,
        printer: optString(args, 'printer'), sharesFile: resolved(optString(args, 'shares')), sharesOut,
        confirmFrom: resolved(optString(args, 'confirm-from')) ?? (rehearsal ? sharesOut : undefined), ackAll: Boolean(args.values['ack-all']),
        ackNetwork: Boolean(args.values['ack-network']), pinEnv: optString(args, 'pin-env'), passphraseEnv: optString(args, 'passphrase-env'), moduleArgs: optString(args, 'module-args'),
      },
      io,
    );
    printReshare(io, r, rehearsal);
    return 0;
  },
};
