import { existsSync, realpathSync } from 'node:fs';
import { KeyriteError } from '../../core/errors.ts';
import { judgeMechanisms, openModule, ROOT_ALGORITHMS, type MechanismInfo, type MechanismNeed, type TokenInfo } from '../../core/hsm/index.ts';
import { findSoftHsmModule, SOFTHSM_MODULE_CANDIDATES } from '../../core/hsm/softhsm.ts';
import { optString, type CliIO, type Command, type ParsedArgs } from '../command.ts';

/** Where common PKCS#11 modules live; only the ones that exist are opened. */
export const COMMON_MODULE_PATHS = [
  ...SOFTHSM_MODULE_CANDIDATES,
  '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so',
  '/usr/lib/aarch64-linux-gnu/opensc-pkcs11.so',
  '/usr/lib/x86_64-linux-gnu/pkcs11/yubihsm_pkcs11.so',
  '/usr/lib/libCryptoki2_64.so', // Thales Luna
  '/usr/safenet/lunaclient/lib/libCryptoki2_64.so',
  '/opt/nfast/toolkits/pkcs11/libcknfast.so', // Entrust nShield
  '/opt/cloudhsm/lib/libcloudhsm_pkcs11.so', // AWS CloudHSM
];

export function defaultModules(): string[] {
  const soft = findSoftHsmModule();
  const found = COMMON_MODULE_PATHS.filter((p) => existsSync(p));
  // Distributions link the same library under several names; list each file once.
  const seen = new Set<string>();
  return [...(soft ? [soft] : []), ...found].filter((p) => {
    const real = realpathSync(p);
    if (seen.has(real)) return false;
    seen.add(real);
    return true;
  });
}

/** Every mechanism any ceremony may need, merged over all root algorithms. */
export function ceremonyMechanisms(mechs: MechanismInfo[], flags: string[]): MechanismNeed[] {
  const rows: MechanismNeed[] = [];
  for (const alg of ROOT_ALGORITHMS) {
    for (const r of judgeMechanisms(mechs, alg, { tokenFlags: flags })) {
      const have = rows.find((x) => x.name === r.name);
      if (!have) rows.push({ ...r });
      else for (const why of r.needed.split('; ')) if (!have.needed.split('; ').includes(why)) have.needed += `; ${why}`;
    }
  }
  return rows;
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
  lines.push('    ceremony mechanisms:');
  const rows = ceremonyMechanisms(mechs, t.flags);
  const width = Math.max(...rows.map((r) => r.name.length));
  for (const r of rows) lines.push(`      ${r.present ? 'usable ' : 'MISSING'}  ${r.name.padEnd(width)}  ${r.needed}`);
  return lines;
}

function listModule(path: string, io: CliIO): void {
  const mod = openModule(path);
  try {
    const lines = [
      `module ${mod.info.path}`,
      `  sha256:   ${mod.info.sha256}`,
      `  library:  ${mod.info.library} ${mod.info.libraryVersion} (${mod.info.manufacturer}, Cryptoki ${mod.info.cryptokiVersion})`,
    ];
    const tokens = mod.tokens();
    if (tokens.length === 0) lines.push('  no tokens');
    for (const t of tokens) {
      let mechs: MechanismInfo[] | undefined;
      if (t.flags.includes('TOKEN_INITIALIZED')) {
        try {
          mechs = mod.mechanisms({ label: t.label, serial: t.serialNumber });
        } catch {
          mechs = undefined;
        }
      }
      lines.push(...tokenLines(t, mechs));
    }
    io.stdout(lines.join('\n') + '\n');
  } finally {
    mod.close();
  }
}

export const hsmListCommand: Command = {
  name: 'hsm list',
  summary: 'PKCS#11 modules, their tokens and the ceremony mechanisms each offers',
  help: [
    'Usage: keyrite hsm list [--module PATH]',
    '',
    'Lists the PKCS#11 module given (or every common one found: SoftHSM, OpenSC, YubiHSM, Luna,',
    'nShield, CloudHSM), its SHA-256, and for each slot the token: label, manufacturer, model, serial,',
    'firmware and flags, and the mechanisms a ceremony needs, each marked usable or MISSING.',
    'Whether a key type can be wrapped (e.g. Ed25519 on SoftHSM) and RSA-OAEP with SHA-256 are found',
    'by trying, at the preflight of a ceremony.',
    '',
    'Options:',
    '  --module PATH   the PKCS#11 module (.so/.dylib/.dll) to list',
  ].join('\n'),
  options: { module: { type: 'string' } },
  async run(args: ParsedArgs, io: CliIO): Promise<number> {
    const given = optString(args, 'module');
    if (given !== undefined) {
      listModule(given, io);
      return 0;
    }
    const paths = defaultModules();
    if (paths.length === 0) {
      throw new KeyriteError('no PKCS#11 module found in the usual places; give one with --module PATH', 1);
    }
    let listed = 0;
    for (const [i, p] of paths.entries()) {
      if (i > 0) io.stdout('\n');
      try {
        listModule(p, io);
        listed++;
      } catch (err) {
        if (!(err instanceof KeyriteError)) throw err;
        io.stdout(`module ${p}\n  cannot be opened: ${err.message}\n`);
      }
    }
    return listed > 0 ? 0 : 1;
  },
};
