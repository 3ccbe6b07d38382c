import type { PlanExport } from './target-schema.ts';
import { readme, rotationLines, shellArg, type ExportFile, type ReadmeFacts } from './bundle-files.ts';

type VaultExport = Extract<PlanExport, { kind: 'vault-transit' }>;

/** The body of POST /<mount>/keys/:name/import (Vault and OpenBao transit BYOK). */
export interface VaultImport {
  /** base64 of OAEP(hash)(ephemeral AES-256) || KWP(ephemeral, material). */
  ciphertext: string;
  type: string;
  /** The OAEP hash used for the ephemeral key: "SHA1" or "SHA256". */
  hash_function: string;
}

export function vaultTransitFiles(target: VaultExport, ciphertext: Buffer, facts: ReadmeFacts): ExportFile[] {
  const body: VaultImport = { ciphertext: ciphertext.toString('base64'), type: target.type, hash_function: target.hashFunction };
  // A rotation adds a version to the existing transit key (import_version); it ignores `type`.
  const path = `${target.mount ?? 'transit'}/keys/${target.keyName ?? target.name}/${facts.rotation ? 'import_version' : 'import'}`;
  const steps = [
    ...(facts.rotation ? rotationLines(facts.rotation, "Vault/OpenBao Transit: import_version, which ignores the body's type") : []),
    `The wrapping key must be the one from: vault read ${shellArg(`${target.mount ?? 'transit'}/wrapping_key`)}`,
    '',
    `vault write ${shellArg(path)} @import.json`,
    '',
    'With OpenBao:',
    '',
    `bao write ${shellArg(path)} @import.json`,
  ];
  return [
    { name: 'import.json', data: JSON.stringify(body, null, 2) + '\n' },
    { name: 'README.txt', data: readme(facts, steps, ['import.json  the request body: ciphertext (base64), type, hash_function']) },
  ];
}
