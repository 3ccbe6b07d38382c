/**
 * `keyrite recover` (docs/commands.md): restores a ceremony's root key into a token from SLIP-39 shares, over
 * the Recovery core. Shares come one at a time from --shares FILE, piped standard input, or a no-echo
 * prompt on a terminal; each is checked as it comes, and progress says what is still needed.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Recovery, type ShareProgress } from '../../core/ceremony/recover.ts';
import { KeyriteError, OperationError, UsageError } from '../../core/errors.ts';
import { Slip39Error } from '../../core/shares/index.ts';
import { optString, requireString, secretSource, type CliIO, type Command, type StopWatch } from '../command.ts';
import { MODULE_ARGS_HELP, MODULE_ARGS_OPTION, moduleArgs, TOKEN_NARROWING_HELP, TOKEN_NARROWING_OPTIONS } from '../module-args.ts';
import { mnemonicLines } from './shares.ts';
import { statementAnchorText } from '../anchor.ts';
import { promptShareWords } from '../word-prompt.ts';

const CMD = 'recover';

function describeProgress(p: ShareProgress): string {
  const who = `group ${p.group}, member ${p.member}${p.custodian ? ` (custodian ${p.custodian})` : ''}, check value ${p.checkValue}`;
  const state = p.complete ? 'enough shares' : `still needed: ${p.needs}`;
  return `share ${p.position}: accepted — ${who}${p.used ? '' : ' (not needed: its group already has enough)'}; ${state}`;
}

export const recoverCommand: Command = {
  name: 'recover',
  summary: 'Restore the root key into a token from SLIP-39 shares, with a signed recovery record',
  help: `Usage: keyrite recover --bundle BUNDLE --module PATH --token LABEL [--token-serial S] [--slot N]
                       [--label L] [--pin-env VAR] [--passphrase-env VAR] [--shares FILE]
                       [--force-unverified] [--module-args STRING]

Restores a ceremony's root key into a (new) HSM token from its SLIP-39 shares:
  1. verifies BUNDLE (as keyrite verify does) and reads the share set, the wrapped root key
     (backup/root.wrapped) and the root's public key or KCV from its transcript;
  2. logs in to the token (the PIN first, so a wrong PIN costs nobody their typing) and refuses
     at once if the label or the key's CKA_ID is already on the token;
  3. takes shares one at a time — from FILE, from standard input (one mnemonic per line; blank
     lines and lines starting with # are ignored), or typed at a terminal, word by word at
     no-echo "word N of 33" prompts — and checks each at once: known words, checksum (one
     mistyped word is located and asked for again), same share set as the ceremony, a check
     value the ceremony recorded, not a duplicate. At a terminal a refused share is typed again
     and the shares already accepted stay. It stops at the threshold;
  4. combines them and checks the backup key's KCV against the transcript (a wrong passphrase
     fails here, before the token is touched; typed at the prompt, it is asked again);
     then unwraps the root key inside the token as a token object with the ceremony's
     attributes, proves it is the same key (signature checked with the root public key, or the
     same KCV), and seals it again if the ceremony did;
  5. writes a signed record to BUNDLE/recoveries/<UTC time>/ (transcript.jsonl,
     transcript.dsse.json, keys/), signed by a new EC P-384 key made on the token and by the
     recovered root when it can sign. keyrite verify BUNDLE then checks it too.

Options:
  --bundle BUNDLE        the ceremony bundle folder
  --module PATH          the target HSM's PKCS#11 library
  --token LABEL          the target token's label
${TOKEN_NARROWING_HELP}
${MODULE_ARGS_HELP}
  --label L              label for the restored key (default: the ceremony's)
  --pin-env VAR          read the token PIN from environment variable VAR (else a no-echo prompt)
  --passphrase-env VAR   read the SLIP-39 passphrase from VAR, when the ceremony used one
  --shares FILE          read the shares from FILE instead of standard input
  --force-unverified     go ahead although BUNDLE does not verify; recorded in the recovery record
  --debug                show a stack trace on failure

SIGINT, SIGTERM or Ctrl-C at a prompt stops the run (exit 1) before anything is written to the
token: the message names the prompt, and the shares entered so far are wiped, not kept.

From FILE or standard input, a bad share stops the run with "share N: <reason>", N being its
position in the input, and nothing on the token changed.

Exit status: 0 restored; 1 a share, the bundle or the token failed; 2 bad usage.`,
  options: {
    bundle: { type: 'string' },
    module: { type: 'string' },
    token: { type: 'string' },
    label: { type: 'string' },
    'pin-env': { type: 'string' },
    'passphrase-env': { type: 'string' },
    shares: { type: 'string' },
    'force-unverified': { type: 'boolean' },
    ...MODULE_ARGS_OPTION,
    ...TOKEN_NARROWING_OPTIONS,
  },
  async run(args, io) {
    const bundle = path.resolve(io.cwd, requireString(args, CMD, 'bundle'));
    const modulePath = path.resolve(io.cwd, requireString(args, CMD, 'module'));
    const tokenLabel = requireString(args, CMD, 'token');
    const sharesFile = optString(args, 'shares');
    const forceUnverified = Boolean(args.values['force-unverified']);
    // Where the PIN comes from is settled before anything is read, so a run never fails at the end for want of it.
    const readPin = secretSource(io, CMD, 'pin-env', optString(args, 'pin-env'), `PIN for token '${tokenLabel}'`);
    let sharesText: string | undefined;
    if (sharesFile !== undefined) {
      try {
        sharesText = readFileSync(path.resolve(io.cwd, sharesFile), 'utf8');
      } catch (err) {
        throw new UsageError(`${CMD}: cannot read --shares ${sharesFile} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`);
      }
    }

    const rec = Recovery.open({
      bundle,
      module: modulePath,
      tokenLabel,
      tokenSerial: optString(args, 'token-serial'),
      tokenSlot: optString(args, 'slot'),
      moduleArgs: moduleArgs(args),
      label: optString(args, 'label'), forceUnverified, frontEnd: 'cli' });
    // Signals to the process answer the pending prompt with the stop (docs/commands.md, "Stopping a recovery").
    const stops = io.watchStops?.();
    const at = { step: 'the PIN prompt' };
    try {
      const info = rec.info;
      io.stdout(`Ceremony:    ${info.ceremonyId}${info.title ? ` — ${info.title}` : ''}\n`);
      io.stdout(`Root key:    ${info.root.label} (${info.root.algorithm}), fingerprint ${info.root.fingerprint}\n`);
      io.stdout(`Bundle:      ${info.verification.valid ? 'verified' : `DOES NOT VERIFY (${info.verification.firstFailure}); going ahead because of --force-unverified, which is recorded`}\n`);
      io.stdout(`Target:      token '${info.token.label}' (serial ${info.token.serialNumber}), label '${info.targetLabel}'\n`);
      const groups = info.groups.map((g) => `group ${g.group}: ${g.threshold} of ${g.count}`).join('; ');
      io.stdout(`Shares:      ${info.groupThreshold} of ${info.groups.length} group${info.groups.length === 1 ? '' : 's'} (${groups})${info.passphrase ? ', plus the SLIP-39 passphrase' : ''}\n`);

      let readPassphrase: (() => Promise<string>) | undefined;
      const passEnv = optString(args, 'passphrase-env');
      if (info.passphrase) readPassphrase = secretSource(io, CMD, 'passphrase-env', passEnv, 'SLIP-39 passphrase');
      else if (passEnv !== undefined) io.stdout(`Note:        this ceremony used no SLIP-39 passphrase; --passphrase-env is ignored\n`);

      // The token and the PIN are checked before any share is asked for: a wrong PIN or a taken
      // label must not cost the custodians their typing (shares never outlive this process).
      const pin = await readPin();
      stops?.check();
      rec.login(pin);
      io.stdout(`Token:       logged in; label '${info.targetLabel}' and the root's CKA_ID are free\n`);

      if (sharesText === undefined && io.stdinIsTTY) await promptShares(rec, io, at);
      else {
        at.step = 'reading the shares';
        const text = sharesText ?? (await io.readStdin());
        stops?.check();
        const lines = mnemonicLines(text);
        let n = 0;
        for (const line of lines) {
          n++;
          io.stdout(`${describeProgress(rec.addShare(line, n))}\n`);
          if (rec.complete) break;
        }
        if (!rec.complete) {
          const given = n === 0 ? 'no shares were given' : `only ${n} share${n === 1 ? ' was' : 's were'} given`;
          const accepted = n === 0 ? '' : n === 1 ? ' (share 1 accepted)' : ` (shares 1–${n} accepted)`;
          throw new OperationError(`too few shares: ${given}${accepted}; still needed: ${rec.needs()}`);
        }
        if (lines.length > n) io.stdout(`(${lines.length - n} more line${lines.length - n === 1 ? '' : 's'} not needed and not read)\n`);
      }

      at.step = 'the passphrase prompt';
      const passphrase = readPassphrase ? await readPassphrase() : undefined;
      const { kcv } = await checkBackupKey(rec, io, passphrase, passEnv === undefined);
      io.stdout(`Backup key:  KCV ${kcv} matches the ceremony's\n`);
      at.step = 'the start of the restore';
      // Last look before the token is written: from here the restore runs to its end in one go (the
      // core is synchronous, so a signal during it is only seen after the recovery is recorded).
      stops?.check();
      const out = rec.restore(pin);
      // A signal that came during the restore is delivered only now. The recovery is complete and
      // recorded, so undoing it would be wrong: the stop is said, not acted on.
      await new Promise((r) => setTimeout(r, 10)); // a full event-loop turn, whose poll delivers a pending signal
      const late = stopSignal(stops);
      if (late) io.stderr(`keyrite: the ${late} came during the restore, which runs to its end once started: the key is restored and the recovery recorded (below); nothing was undone\n`);
      io.stdout(`\nRestored:    '${out.label}' (${out.algorithm}) on token '${out.token.label}' (serial ${out.token.serialNumber}), CKA_ID ${out.idHex}\n`);
      io.stdout(`Same key:    ${out.algorithm === 'aes-256' ? `KCV ${out.fingerprint.replace(/^KCV /, '')}` : `signature verified with keys/root.pub.pem (${out.fingerprint})`}${out.sealed ? '; sealed (not extractable), as the ceremony left it' : ''}\n`);
      io.stdout(`Record:      ${out.recoveryDir}\n`);
      for (const s of out.signers) io.stdout(`Signed by:   ${s.keyid} (${s.role === 'ceremony' ? 'recovery signer, one-time: destroyed after signing' : 'recovered root'})\n`);
      io.stdout(`\n${statementAnchorText(out.statementSha256)}\n`);
      io.stdout(`Check it:    keyrite verify ${bundle}\n`);
      return 0;
    } catch (err) {
      throw stoppedBeforeWriting(err, stops, at.step);
    } finally {
      stops?.dispose();
      rec.close();
    }
  },
};

/** The signal's name, if one was received. */
function stopSignal(stops: StopWatch | undefined): string | undefined {
  try {
    stops?.check();
  } catch (stop) {
    return /stopped by (SIG[A-Z]+)/.exec((stop as Error).message)?.[1] ?? 'stop';
  }
  return undefined;
}

/**
 * A stop (a signal, or Ctrl-C at a prompt) always comes before the restore starts, so nothing was
 * written to the token and there is no recovery folder to record it in: the message says so plainly.
 * (close() wipes the shares from memory as the command returns.)
 */
function stoppedBeforeWriting(err: unknown, stops: StopWatch | undefined, step: string): unknown {
  let signalled = false;
  try {
    stops?.check();
  } catch (stop) {
    signalled = stop === err;
  }
  const ctrlC = err instanceof OperationError && /^interrupted by the operator/.test(err.message);
  if (!signalled && !ctrlC) return err;
  const what = signalled ? (err as Error).message.replace(/ sent to the keyrite process$/, '') : 'stopped by Ctrl-C';
  return new OperationError(`${what} at ${step}: nothing was written to the token and no recovery record was started; the shares entered so far are not kept`);
}

/**
 * The shares combine to the backup key: a passphrase typed at the prompt may be mistyped, so it is
 * asked again (the shares already accepted stay); one from the environment is not.
 */
async function checkBackupKey(rec: Recovery, io: CliIO, passphrase: string | undefined, typed: boolean): Promise<{ kcv: string }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return rec.checkBackupKey(passphrase);
    } catch (err) {
      if (!(err instanceof KeyriteError && err.retryable) || !typed || !io.stdinIsTTY || attempt >= 3) throw err;
      io.stderr(`keyrite: ${err.message.replace(/; nothing was done on the token$/, '')}; type the passphrase again\n`);
      passphrase = await io.promptSecret('SLIP-39 passphrase: ');
    }
  }
}

/** Terminal: one no-echo prompt per share; a refused share is explained and asked for again. */
async function promptShares(rec: Recovery, io: CliIO, at: { step: string }): Promise<void> {
  let position = 1;
  while (!rec.complete) {
    at.step = `share ${position}`;
    const words = await promptShareWords(io, `Share ${position} (${rec.needs()})`);
    try {
      io.stdout(`${describeProgress(rec.addShare(words, position))}\n`);
      position++;
    } catch (err) {
      if (!(err instanceof Slip39Error)) throw err;
      io.stderr(`keyrite: ${err.message}; try again\n`);
    }
  }
}
