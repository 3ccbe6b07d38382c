import path from 'node:path';
import type { Command } from '../command.ts';
import { MODULE_ARGS_OPTION, moduleArgs, moduleArgsHelp } from '../module-args.ts';
import { optString, secretSource } from '../command.ts';
import { signCompletedCeremony } from '../../core/ceremony/sign.ts';
import { statementAnchorText } from '../anchor.ts';

export const ceremonySignCommand: Command = {
  name: 'ceremony sign',
  summary: 'Sign a completed ceremony whose run stopped before it wrote transcript.dsse.json',
  help: `Usage: keyrite ceremony sign BUNDLE [--pin-env VAR] [--module PATH] [--module-args STRING]

For a bundle that \`keyrite verify\` calls "INCOMPLETE: completed but never signed": the transcript
ends with ceremony.completed, but the run stopped (a crash, a removed token) before it wrote
transcript.dsse.json. This command finishes what the ceremony had left to do:
  1. checks the transcript (hash chain intact, ends with ceremony.completed, not aborted, no
     envelope yet) and that everything but the envelope verifies;
  2. writes report.html if it is missing (the same bytes the ceremony would have written);
  3. logs in to the token the transcript names (hsm.selected: module path, token label, serial and
     slot), finds the ceremony signer — and the root key, when the root can sign — by the label and
     CKA_ID the transcript records, and checks each public key against the recorded one;
  4. signs transcript.dsse.json with them, exactly as the ceremony would have, reads it back and
     checks it, then destroys the one-time ceremony signer on the token (as the ceremony does), and
     runs verify.
Nothing is appended to the transcript and nothing is removed from the bundle. The signer signs one
statement only: a bundle that was signed once (by the ceremony or by this command) can never be
signed again, even with the token and its PIN.

Options:
  --pin-env VAR          read the token PIN from environment variable VAR (else a no-echo prompt)
  --module PATH          the PKCS#11 module file, when it is not where hsm.selected says
${moduleArgsHelp('default: those hsm.selected recorded')}

Exit status: 0 signed and verify says VALID; 1 refused (already signed, aborted, not completed,
damaged) or failed (wrong PIN, a key missing from the token); 2 BUNDLE is not a bundle, bad usage.`,
  options: { 'pin-env': { type: 'string' }, module: { type: 'string' }, ...MODULE_ARGS_OPTION },
  positionals: { min: 1, max: 1, names: 'BUNDLE' },
  async run(args, io) {
    const cmd = 'ceremony sign';
    const bundleDir = path.resolve(io.cwd, args.positionals[0]);
    const pinEnv = optString(args, 'pin-env');
    const modulePath = optString(args, 'module');
    const r = await signCompletedCeremony(bundleDir, {
      modulePath: modulePath && path.resolve(io.cwd, modulePath),
      moduleArgs: moduleArgs(args),
      // Asked for only when the token is needed.
      pin: () => secretSource(io, cmd, 'pin-env', pinEnv, 'token PIN')(),
    });
    if (r.reportWritten) io.stdout('Wrote report.html (it was missing).\n');
    io.stdout(`Signed: ${path.join(r.bundleDir, 'transcript.dsse.json')} (${r.signers.map((s) => `${s.role} ${s.keyid.slice(0, 16)}…`).join(', ')})\n`);
    io.stdout(`Ceremony signer destroyed on the token (one-time signer).\n`);
    io.stdout(statementAnchorText(r.statementSha256));
    io.stdout(`verify: ${r.verdict}\n`);
    return r.verdict.startsWith('VALID') ? 0 : 1;
  },
};
