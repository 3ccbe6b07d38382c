import type { PlanExport } from './target-schema.ts';
import type { RootAlgorithm, TokenInfo } from '../hsm/types.ts';
import { argOr, readme, rotationLines, shellArg, type ExportFile, type ReadmeFacts } from './bundle-files.ts';
import { azureKeyType } from './requirements.ts';

type AzureExport = Extract<PlanExport, { kind: 'azure-byok' }>;

/** The key transfer blob of Microsoft's BYOK specification (a ".byok" file). */
export interface ByokFile {
  schema_version: '1.0.0';
  header: { kid: string; alg: 'dir'; enc: 'CKM_RSA_AES_KEY_WRAP' };
  /** base64url (no padding) of the CKM_RSA_AES_KEY_WRAP output, OAEP with SHA-1. */
  ciphertext: string;
  /** Tool name and version; source HSM and firmware, as the specification asks. */
  generator: string;
}

export function byokFile(kid: string, ciphertext: Buffer, appVersion: string, token?: Pick<TokenInfo, 'manufacturer' | 'model' | 'firmware'>): ByokFile {
  const hsm = token ? `; ${token.manufacturer.trim()} ${token.model.trim()} firmware ${token.firmware}` : '';
  return {
    schema_version: '1.0.0',
    header: { kid, alg: 'dir', enc: 'CKM_RSA_AES_KEY_WRAP' },
    ciphertext: ciphertext.toString('base64url'),
    generator: `Keyrite ${appVersion}${hsm}`,
  };
}

export function azureByokFiles(
  target: AzureExport,
  ciphertext: Buffer,
  root: RootAlgorithm,
  appVersion: string,
  token: Pick<TokenInfo, 'manufacturer' | 'model' | 'firmware'> | undefined,
  facts: ReadmeFacts,
): ExportFile[] {
  const fileName = `${target.name}.byok`;
  const type = azureKeyType(root);
  if (!type) throw new Error(`Azure Key Vault cannot import a ${root} key`); // refused by the preflight
  // AES (oct) keys go to Managed HSM only, addressed by --hsm-name.
  const where = type.kty === 'oct' ? `--hsm-name ${argOr(target.vaultName, 'managed-hsm-name')}` : `--vault-name ${argOr(target.vaultName, 'vault-name')}`;
  const command = [
    'az keyvault key import',
    where,
    `--name ${argOr(target.keyName, 'key-name')}`,
    `--byok-file ${shellArg(fileName)}`,
    `--kty ${type.kty}`,
    ...(type.curve ? [`--curve ${type.curve}`] : []),
  ].join(' ');
  const steps = [
    ...(facts.rotation ? rotationLines(facts.rotation, 'Key Vault: importing under the existing key name adds a new key version') : []),
    `The Key Exchange Key ${target.kid} must be in the same vault.`,
    '',
    command,
  ];
  return [
    { name: fileName, data: JSON.stringify(byokFile(target.kid, ciphertext, appVersion, token), null, 2) + '\n' },
    { name: 'README.txt', data: readme(facts, steps, [`${fileName}  the key transfer blob (BYOK specification, schema 1.0.0)`]) },
  ];
}
