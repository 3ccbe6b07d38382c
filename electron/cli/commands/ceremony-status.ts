import path from 'node:path';
import type { Command } from '../command.ts';
import { ceremonyStatus, formatStatus } from '../../core/ceremony/status.ts';
import { requireBundleFolder } from '../../core/util/bundle-dir.ts';

export const ceremonyStatusCommand: Command = {
  name: 'ceremony status',
  summary: 'What a ceremony did and did not do, from its transcript (after a crash, a stop, any time)',
  help: `Usage: keyrite ceremony status BUNDLE [--json]

Reads BUNDLE/transcript.jsonl — the ceremony's journal: every step is on disk before it is reported
done — and prints each phase (started, token, login, plan steps, signer key, root key, backup,
each sheet printed, each share confirmed, recovery test, each export, seal, completed, signed,
aborted, clean-up) as done, not done, STARTED (begun when the run stopped) or FAILED, and every key
the transcript announced (label and CKA_ID), which may exist on the token.
A final line whose write never finished (the process died while writing it) is reported, not counted.

Options:
  --json   print the status as JSON

Exit status: 0 the report was printed (whatever the ceremony's state); 1 the transcript is
unreadable or its hash chain is broken (the line is named); 2 BUNDLE is not a folder, or has no
transcript.jsonl (not a Keyrite bundle).`,
  options: { json: { type: 'boolean' } },
  positionals: { min: 1, max: 1, names: 'BUNDLE' },
  async run(args, io) {
    const dir = path.resolve(io.cwd, args.positionals[0]);
    requireBundleFolder(dir, args.positionals[0]);
    const s = ceremonyStatus(dir);
    if (args.values.json) {
      const { events: _events, tornTail, ...rest } = s;
      io.stdout(JSON.stringify({ ...rest, tornTail: tornTail ? { line: tornTail.line, bytes: tornTail.bytes.length } : null }, null, 2) + '\n');
    } else {
      io.stdout(formatStatus(s));
    }
    return 0;
  },
};
