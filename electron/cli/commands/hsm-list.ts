import { KeyriteError } from '../../core/errors.ts';
import { openModule, ROOT_ALGORITHMS, type MechanismInfo, type TokenInfo } from '../../core/hsm/index.ts';
import { judgeCapabilities, refusals, type Capability } from '../../core/hsm/capabilities.ts';
import { discoverModules, initArgsHint } from '../../core/hsm/discover.ts';
import { UsageError } from '../../core/errors.ts';
import { optString, secretSource, type CliIO, type Command, type ParsedArgs } from '../command.ts';
import { MODULE_ARGS_HELP, MODULE_ARGS_OPTION, moduleArgs, TOKEN_NARROWING_HELP, TOKEN_NARROWING_OPTIONS } from '../module-args.ts';
import { proveLines } from './hsm-prove.ts';

export { COMMON_MODULE_PATHS, MODULE_DIRS } from '../../core/hsm/discover.ts';

const PATH_WORD: Record<Capability['path'], string> = { native: 'native  ', fallback: 'FALLBACK', refused: 'REFUSED ' };

/**
 * The capability rows of a token, by the judgement the ceremony preflight uses (capabilities.ts):
 * the ceremony-wide ones once (signer, KCV, backup, exports, random), then each root algorithm
 * usable or refused with the reason. Exports are optional in a plan, so they never refuse an algorithm.
 */
export function capabilityLines(mechs: MechanismInfo[], flags: string[]): string[] {
  const lines: string[] = ['    capabilities (the judgement a ceremony preflight makes; proven with throwaway keys at its login):'];
  const common = judgeCapabilities(mechs, 'aes-256', { exports: 1, tokenFlags: flags }).rows.filter((r) => !r.capability.startsWith('root') && !r.capability.startsWith('backup'));
  const width = 22;
  for (const r of common) lines.push(`      ${PATH_WORD[r.path]}  ${r.capability.padEnd(width)}${r.mechanism}: ${r.detail}`);
  lines.push('    root algorithms:');
  for (const alg of ROOT_ALGORITHMS) {
    const plan = judgeCapabilities(mechs, alg, { tokenFlags: flags });
    const own = plan.rows.filter((r) => r.capability.startsWith('root') || r.capability.startsWith('backup'));
    const fallback = own.filter((r) => r.path === 'fallback');
    if (plan.ok) lines.push(`      usable    ${alg.padEnd(width)}${fallback.length ? `fallback: ${fallback.map((f) => `${f.capability} via ${f.mechanism}`).join(', ')}` : 'native'}`);
    else lines.push(`      REFUSED   ${alg.padEnd(width)}${refusals(plan)}`);
  }
  return lines;
}

function tokenLines(t: TokenInfo, mechs: MechanismInfo[] | undefined): string[] {
  const initialised = t.flags.includes('TOKEN_INITIALIZED');
  const lines = [
    `  slot ${t.slotId} (${t.slotDescription})`,
    `    token:        ${initialised ? `'${t.label}'` : '(not initialised)'}`,
    `    manufacturer: ${t.manufacturer}`,
    `    model:        ${t.model}`,
    `    serial:       ${t.serialNumber || '-'}`,
    `    firmware:     ${t.firmware} (hardware ${t.hardware})`,
    `    flags:        ${t.flags.join(' ')}`,
  ];
  if (!initialised) return lines;
  if (!mechs) return [...lines, '    mechanisms:   could not be listed'];
  return [...lines, ...capabilityLines(mechs, t.flags)];
}

interface Prove {
  token: { label: string; serial?: string; slotId?: string };
  pin: string;
}

function listModule(path: string, io: CliIO, initArgs: string | undefined, prove?: Prove): void {
  const mod = openModule(path, { initArgs });
  try {
    const lines = [
      `module ${mod.info.path}`,
      `  sha256:   ${mod.info.sha256}`,
      `  library:  ${mod.info.library} ${mod.info.libraryVersion} (${mod.info.manufacturer}, Cryptoki ${mod.info.cryptokiVersion})`,
    ];
    if (initArgs !== undefined) lines.push(`  init:     ${initArgs}`);
    const tokens = mod.tokens();
    if (tokens.length === 0) lines.push('  no tokens');
    for (const t of tokens) {
      let mechs: MechanismInfo[] | undefined;
      if (t.flags.includes('TOKEN_INITIALIZED')) {
        try {
          // By slot: this lists every slot, including ones whose label and serial repeat.
          mechs = mod.mechanisms({ label: t.label, serial: t.serialNumber, slotId: t.slotId });
        } catch {
          mechs = undefined;
        }
      }
      lines.push(...tokenLines(t, mechs));
    }
    if (prove) lines.push(...proveLines(mod, prove.token, prove.pin));
    io.stdout(lines.join('\n') + '\n');
  } finally {
    mod.close();
  }
}

export const hsmListCommand: Command = {
  name: 'hsm list',
  summary: 'PKCS#11 modules, their tokens and what each can do in a ceremony',
  help: [
    'Usage: keyrite hsm list [--module PATH] [--module-args STRING]',
    '       keyrite hsm list --module PATH --prove --token LABEL [--token-serial S] [--slot N] [--pin-env VAR]',
    '',
    'Lists the PKCS#11 module given, or every one found in the usual places (/usr/lib/<multiarch>/pkcs11/,',
    '/usr/lib64/pkcs11/, SoftHSM, OpenSC, opencryptoki, tpm2-pkcs11, p11-kit proxy, NSS softoken, and the',
    'vendor paths of YubiHSM, Luna, nShield, CloudHSM, Utimaco); its SHA-256; and for each slot the token:',
    'label, manufacturer, model, serial, firmware and flags, then each capability a ceremony needs as',
    'native, FALLBACK (a standard alternative, named) or REFUSED (with the reason), judged from the',
    'mechanism flags and key-size ranges exactly as the ceremony preflight judges them, and each root',
    'algorithm usable or REFUSED. A ceremony proves the same with throwaway keys at login; --prove',
    'logs in to one token and runs those proofs now (wrap and unwrap back of each key kind, KCV,',
    'signer, sealing, attribute quirks), creating only session objects.',
    '',
    'Options:',
    '  --module PATH          the PKCS#11 module (.so/.dylib/.dll) to list',
    MODULE_ARGS_HELP,
    '  --prove                log in and prove each usable algorithm (needs --module and --token)',
    '  --token LABEL          the token to prove on',
    TOKEN_NARROWING_HELP,
    '  --pin-env VAR          read the PIN from environment variable VAR (else a no-echo prompt)',
    '',
    'Exit status: 0 a module was listed (with --prove: the proofs ran; read the REFUSED lines);',
    '1 no module found in the usual places, none of them could be opened, or the login failed;',
    '2 --module is not a file or not a PKCS#11 library, or --prove lacks --module or --token.',
  ].join('\n'),
  options: { module: { type: 'string' }, ...MODULE_ARGS_OPTION, prove: { type: 'boolean' }, token: { type: 'string' }, ...TOKEN_NARROWING_OPTIONS, 'pin-env': { type: 'string' } },
  async run(args: ParsedArgs, io: CliIO): Promise<number> {
    // tpm2-pkcs11's TSS libraries log every failed TCTI probe to stderr (a dozen lines on a machine
    // with no TPM); Keyrite reports each module's state itself, so their log is off unless asked for.
    process.env.TSS2_LOG ??= 'all+NONE';
    const given = optString(args, 'module');
    const initArgs = moduleArgs(args);
    if (args.values.prove) {
      const label = optString(args, 'token');
      if (given === undefined || !label) throw new UsageError('hsm list: --prove needs --module PATH and --token LABEL');
      const pin = await secretSource(io, 'hsm list', 'pin-env', optString(args, 'pin-env'), `PIN for token '${label}'`)();
      listModule(given, io, initArgs, { token: { label, serial: optString(args, 'token-serial'), slotId: optString(args, 'slot') }, pin });
      return 0;
    }
    if (given !== undefined) {
      listModule(given, io, initArgs);
      return 0;
    }
    const paths = discoverModules();
    if (paths.length === 0) throw new KeyriteError('no PKCS#11 module found in the usual places; give one with --module PATH', 1);
    let listed = 0;
    for (const [i, p] of paths.entries()) {
      if (i > 0) io.stdout('\n');
      try {
        listModule(p, io, undefined);
        listed++;
      } catch (err) {
        if (!(err instanceof KeyriteError)) throw err;
        const hint = err.message.includes('--module-args') ? undefined : initArgsHint(p);
        io.stdout(`module ${p}\n  cannot be opened: ${err.message.replace(`module ${p} `, '')}${hint ? `\n  ${hint}` : ''}\n`);
      }
    }
    return listed > 0 ? 0 : 1;
  },
};
