import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from '../command.ts';
import { optString, requireString, secretSource } from '../command.ts';
import { moduleArgsHelp } from '../module-args.ts';
import { UsageError } from '../../core/errors.ts';
import { ReshareCeremony } from '../../core/lifecycle/reshare.ts';
import { statementDigest } from '../../core/lifecycle/facts.ts';

export const ceremonyReshareCommand: Command = {
  name: 'ceremony reshare',
  summary: "Re-share a root key's backup to a new custodian layout (rehearsal in this release)",
  help: `Usage: keyrite ceremony reshare --rehearsal --plan FILE --out DIR --shares FILE --shares-out DIR
                              --ack-all [--pin-env VAR] [--module-args STRING]

Runs a re-share plan (docs/lifecycle.md): "ceremony": "reshare", "previous" (the key's last bundle,
pinned by its statement digest) and the new "backup" layout. A threshold of the current shares
(--shares FILE, one mnemonic per line) must combine to the old backup key with its recorded KCV
before the token is touched; the root is unwrapped from the current backup/root.wrapped inside the
token as a session object, re-wrapped under a new backup key split for the new layout, and the old
wrapped blob is listed as retired, and each holder of an old share acknowledges destroying their old
sheet (the old shares still open every copy of the old root.wrapped). The new sheets are written to
--shares-out, confirmed from those files and test-recovered. In this release a re-share is a
rehearsal only (--rehearsal required).

Options:
  --plan FILE            the reviewed re-share plan
  --out DIR              where the bundle folder is created
  --shares FILE          the current custodians' shares, one mnemonic per line (# lines ignored)
  --shares-out DIR       where the new sheets are written (they hold the new shares' words)
  --rehearsal            required: the bundle says REHEARSAL
  --ack-all              required: acknowledge the plan's steps, and each old custodian's destruction
                         of their old sheet, without prompting (recorded as such)
  --pin-env VAR          read the token PIN from environment variable VAR (else a no-echo prompt)
${moduleArgsHelp("the plan's hsm.initArgs, when it has one, must be the same")}

Exit status: 0 re-shared; 1 the old shares do not open the backup, or the token refused; 2 bad usage
or plan.`,
  options: {
    plan: { type: 'string' },
    out: { type: 'string' },
    shares: { type: 'string' },
    'shares-out': { type: 'string' },
    rehearsal: { type: 'boolean' },
    'ack-all': { type: 'boolean' },
    'pin-env': { type: 'string' },
    'module-args': { type: 'string' },
  },
  async run(args, io) {
    const cmd = 'ceremony reshare';
    if (!args.values.rehearsal) throw new UsageError(`${cmd}: a re-share is a rehearsal only in this release; add --rehearsal`);
    const sharesFile = path.resolve(io.cwd, requireString(args, cmd, 'shares'));
    const sharesOut = path.resolve(io.cwd, requireString(args, cmd, 'shares-out'));
    let old: string[];
    try {
      old = readFileSync(sharesFile, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    } catch {
      throw new UsageError(`${cmd}: --shares ${sharesFile} cannot be read`);
    }
    const c = ReshareCeremony.load(path.resolve(io.cwd, requireString(args, cmd, 'plan')), { outDir: path.resolve(io.cwd, requireString(args, cmd, 'out')), rehearsal: true, moduleArgs: optString(args, 'module-args') });
    const steps = c.loaded.plan.steps;
    if (!args.values['ack-all']) throw new UsageError(`${cmd}: the steps and the old custodians' acknowledgements are taken with --ack-all in this release (rehearsal)`);
    // Before any token is touched: the old shares must open the old backup key.
    c.enterOldShares(old);
    const pin = secretSource(io, cmd, 'pin-env', optString(args, 'pin-env'), 'Token PIN');
    try {
      c.open(await pin());
      c.begin();
      for (const s of steps) c.acknowledge(s.id, 'ack-all');
      c.rewrap();
      mkdirSync(sharesOut, { recursive: true });
      const files = c.writeSheets(sharesOut);
      files.forEach((f, i) => c.confirmShare(i, readFileSync(f, 'utf8'), 'file'));
      c.testRecovery();
      // What re-sharing cannot do: the old shares still open every copy of the old root.wrapped.
      for (const o of c.oldCustodians) c.oldSheetDestroyed(o, 'ack-all');
      const r = c.finish();
      io.stdout(`Re-shared:   ${c.newShares.length} new share(s), sheets in ${sharesOut}\nRetired:     ${c.loaded.source.backupBundle.ceremonyId}'s backup/root.wrapped (the old shares still open every copy of it: destroy them and the old sheets)\nBundle:      ${r.bundleDir}\nStatement:   ${statementDigest(r.bundleDir)}\n`);
      return 0;
    } catch (err) {
      c.abort(err instanceof Error ? err.message : String(err));
      throw err;
    } finally {
      c.close();
    }
  },
};
