import { generateKeyPairSync, randomBytes } from 'node:crypto';
import path from 'node:path';
import type { RootAlgorithm } from '../hsm/types.ts';
import { sha256Hex, writeNewFile } from '../util/files.ts';
import type { Plan } from './plan.ts';

/**
 * A rehearsal plan: 3-of-5 custodians, two steps, and one export to each KMS kind with wrapping
 * keys generated here and labelled DEMO (no KMS ever sees them).
 */
export function writeDemoPlan(dir: string, o: { id: string; algorithm: RootAlgorithm; module: string; tokenLabel: string }): string {
  // Each file with the SHA-256 the plan pins (SPEC §2), as a KMS console would print it.
  const kms = (name: string, bits: number) => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: bits, publicExponent: 65537 });
    const wrappingKey = `demo-kms/${name}-DEMO-wrapping-key.pem`;
    const pem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
    writeNewFile(path.join(dir, wrappingKey), pem);
    return { wrappingKey, wrappingKeySha256: sha256Hex(pem) };
  };
  const importToken = 'demo-kms/aws-DEMO-ImportToken.bin';
  const tokenBytes = Buffer.concat([Buffer.from('KEYRITE-DEMO-IMPORT-TOKEN:'), randomBytes(32)]);
  writeNewFile(path.join(dir, importToken), tokenBytes);
  const vaultType: Record<RootAlgorithm, string> = {
    'aes-256': 'aes256-gcm96',
    'ec-p256': 'ecdsa-p256',
    'ec-p384': 'ecdsa-p384',
    'rsa-3072': 'rsa-3072',
    'rsa-4096': 'rsa-4096',
    ed25519: 'ed25519',
  };
  const custodians = [
    ['c1', 'Carol One'],
    ['c2', 'Chen Two'],
    ['c3', 'Cruz Three'],
    ['c4', 'Cato Four'],
    ['c5', 'Cleo Five'],
  ];
  const plan: Plan = {
    version: 1,
    ceremony: 'generate',
    id: o.id,
    title: `Keyrite demo rehearsal (${o.algorithm})`,
    participants: [
      { id: 'ada', name: 'Ada Admin', role: 'administrator' },
      { id: 'wes', name: 'Wes Witness', role: 'witness' },
      ...custodians.map(([id, name]) => ({ id, name, role: 'custodian' as const })),
    ],
    hsm: { module: o.module, tokenLabel: o.tokenLabel },
    key: { label: `${o.id}-root`, algorithm: o.algorithm, sealAfterExport: true },
    backup: { groupThreshold: 1, groups: [{ threshold: 3, custodians: custodians.map(([id]) => id) }], iterationExponent: 1, passphrase: false, extendable: true },
    exports: [
      { name: 'aws-demo', kind: 'aws-kms', ...kms('aws', 3072), importToken, importTokenSha256: sha256Hex(tokenBytes), algorithm: 'RSA_AES_KEY_WRAP_SHA_1', keyId: 'DEMO-1234abcd-12ab-34cd-56ef-1234567890ab', region: 'eu-west-1' },
      { name: 'gcp-demo', kind: 'gcp-kms', ...kms('gcp', 3072), algorithm: 'RSA_OAEP_3072_SHA1_AES_256', keyRing: 'demo-ring', key: 'demo-key', location: 'europe-west1', importJob: 'demo-import-job' },
      { name: 'azure-demo', kind: 'azure-byok', ...kms('azure', 3072), kid: 'https://demo-vault.vault.azure.net/keys/DEMO-KEK/0123456789abcdef', algorithm: 'CKM_RSA_AES_KEY_WRAP', vaultName: 'demo-vault', keyName: 'demo-root' },
      { name: 'vault-demo', kind: 'vault-transit', ...kms('vault', 4096), hashFunction: 'SHA1', type: vaultType[o.algorithm], keyName: 'demo-root' },
    ],
    steps: [
      { id: 'room', text: 'The room is sealed and no phones are present (rehearsal).', ackBy: ['wes'] },
      { id: 'airgap', text: 'The machine is disconnected from every network (rehearsal).', ackBy: ['ada', 'wes'] },
    ],
  };
  const file = path.join(dir, 'plan.json');
  writeNewFile(file, JSON.stringify(plan, null, 2) + '\n');
  return file;
}
