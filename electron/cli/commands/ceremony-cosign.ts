import path from 'node:path';
import type { Command } from '../command.ts';
import { optString, requireString, secretSource } from '../command.ts';
import { cosignBundle } from '../../core/ceremony/cosign.ts';
import { statementAnchorText } from '../anchor.ts';
import { MODULE_ARGS_HELP, MODULE_ARGS_OPTION, moduleArgs, TOKEN_NARROWING_HELP, TOKEN_NARROWING_OPTIONS } from '../module-args.ts';

export const ceremonyCosignCommand: Command = {
  name: 'ceremony cosign',
  summary: "Add a witness's or the administrator's own signature to a signed bundle (or a recovery)",
  help: `Usage: keyrite ceremony cosign BUNDLE --as PARTICIPANT --module PATH --token LABEL
                              [--token-serial S] [--slot N] [--key-label L] [--pin-env VAR]
                              [--module-args STRING]

A witness (or the administrator) signs the bundle's statement with a key on their own PKCS#11
token: a smartcard, a YubiKey's PIV key through OpenSC, an HSM. The signature is added to
BUNDLE/transcript.dsse.json over the same payload, and BUNDLE/cosignatures/<keyid>.json records
who signed, in which role, with which public key, when, and on which token. The signed statement
itself never changes. BUNDLE may also be a recovery folder, BUNDLE/recoveries/<time>/.

Before the PIN is asked for, the bundle must verify (every signature, every file) and PARTICIPANT
must be a witness or the administrator in the ceremony's plan who has not co-signed yet. Where the
plan gives participants[].keyid, only that key is accepted.

Options:
  --as PARTICIPANT       the participant id in the plan
  --module PATH          the PKCS#11 module of the co-signer's token (e.g. OpenSC's opensc-pkcs11.so)
  --token LABEL          the token's label
${TOKEN_NARROWING_HELP}
  --key-label L          the signing key's label; without it the token must hold exactly one
                         private signing key
  --pin-env VAR          read the token PIN from environment variable VAR (else a no-echo prompt)
${MODULE_ARGS_HELP}

Exit status: 0 co-signed; 1 refused (not a witness or the administrator, not the plan's key, a key
that already signed, a bundle that does not verify) or the token failed; 2 bad usage, or BUNDLE is
not a bundle.`,
  options: {
    as: { type: 'string' },
    module: { type: 'string' },
    token: { type: 'string' },
    'key-label': { type: 'string' },
    'pin-env': { type: 'string' },
    ...MODULE_ARGS_OPTION,
    ...TOKEN_NARROWING_OPTIONS,
  },
  positionals: { min: 1, max: 1, names: 'BUNDLE' },
  async run(args, io) {
    const cmd = 'ceremony cosign';
    const participant = requireString(args, cmd, 'as');
    const modulePath = path.resolve(io.cwd, requireString(args, cmd, 'module'));
    const tokenLabel = requireString(args, cmd, 'token');
    // Checked now (a usage error before anything is read); asked for only after the bundle checks.
    const pin = secretSource(io, cmd, 'pin-env', optString(args, 'pin-env'), 'token PIN');
    const r = await cosignBundle(path.resolve(io.cwd, args.positionals[0]), {
      participant,
      modulePath,
      tokenLabel,
      keyLabel: optString(args, 'key-label'),
      moduleArgs: moduleArgs(args),
      tokenSerial: optString(args, 'token-serial'),
      tokenSlot: optString(args, 'slot'),
      pin,
    });
    io.stdout(`Co-signed ${r.kind === 'recovery' ? 'recovery' : 'bundle'} ${r.dir} as '${r.participant}' (${r.role}), key ${r.keyid}\n`);
    io.stdout(`Record:    ${r.recordFile}\n`);
    io.stdout(`The envelope now holds ${r.signatures} signatures, ${r.cosignatures} of them co-signatures.\n`);
    io.stdout(statementAnchorText(r.statementSha256));
    return 0;
  },
};
