/**
 * Fallbacks and refusals of the capability model on a real SoftHSM token that is made to list fewer
 * mechanisms (test/helpers/narrow-token.ts): every operation still runs on the token, through the
 * fallback path. Also: `hsm list` and the ceremony preflight reach the same verdict, because they
 * are the same code.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createPublicKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runHeadlessCeremony } from '../../electron/cli/ceremony-runner.ts';
import { capabilityLines } from '../../electron/cli/commands/hsm-list.ts';
import { Ceremony } from '../../electron/core/ceremony/engine.ts';
import { writeDemoPlan } from '../../electron/core/ceremony/demo-plan.ts';
import { openModule } from '../../electron/core/hsm/index.ts';
import { ROOT_ALGORITHMS, type RootAlgorithm } from '../../electron/core/hsm/types.ts';
import { verifyBundle } from '../../electron/core/verify/index.ts';
import { captureIO, makeTokenEnv, PIN, writePlan, type TokenEnv } from '../helpers/ceremony-fixture.ts';
import { narrowedOpenModule, type Narrowing } from '../helpers/narrow-token.ts';
import { transcriptEvents } from '../helpers/nss-ceremony.ts';
import { cli } from './recover-fixtures.ts';

const CKM = { SHA256_RSA_PKCS: 0x40, RSA_PKCS_KEY_PAIR_GEN: 0x0, RSA_PKCS_OAEP: 0x9, EC_KEY_PAIR_GEN: 0x1040, AES_CMAC: 0x108a, KWP: 0x210b, PAD: 0x210a };
const CKF_WRAP = 0x20000;

let env: TokenEnv;
let n = 0;

beforeAll(() => {
  env = makeTokenEnv('narrow-token', ['narrow-target']);
});
afterAll(() => env?.sandbox.dispose());

/** The demo plan (all four exports) for the narrowed token, or the same without exports. */
function demoPlan(dir: string, id: string, alg: RootAlgorithm, exports: boolean): string {
  // Without exports, the test fixture's small plan: the demo plan makes four RSA wrapping keys in software.
  if (!exports) return writePlan(env, { id, algorithm: alg, exports: [] });
  return writeDemoPlan(dir, { id, algorithm: alg, module: env.sandbox.module, tokenLabel: env.tokenLabel });
}

async function ceremony(alg: RootAlgorithm, narrowing: Narrowing, o: { exports?: boolean } = {}) {
  const id = `narrow-${++n}-${alg}`;
  const dir = path.join(env.work, id);
  const planFile = demoPlan(path.join(dir, 'plan'), id, alg, o.exports !== false);
  const sharesOut = path.join(dir, 'shares');
  mkdirSync(sharesOut, { recursive: true });
  const r = await runHeadlessCeremony(
    { planFile, outDir: path.join(dir, 'out'), sharesOut, confirmFrom: sharesOut, ackAll: true, rehearsal: true, frontEnd: 'cli', pin: PIN, quiet: true, openModule: narrowedOpenModule(narrowing) },
    captureIO(),
  );
  return { ...r, sharesOut, label: `${id}`, planFile };
}

const capabilities = (bundle: string) => transcriptEvents(bundle).find((e) => e.type === 'hsm.selected')!.data.capabilities as { capability: string; path: string; mechanism: string }[];
const row = (bundle: string, name: string) => capabilities(bundle).find((r) => r.capability === name);

describe('fallbacks, done for real on the token', () => {
  it('no CKM_AES_CMAC, no CKM_SHA256_RSA_PKCS, EC only at 256 bits: rsa-3072 ceremony with a P-256 signer, KCV from AES-ECB, PKCS#1 via CKM_RSA_PKCS; VALID; recovers', async () => {
    const r = await ceremony('rsa-3072', { hide: [CKM.AES_CMAC, CKM.SHA256_RSA_PKCS], sizes: { [CKM.EC_KEY_PAIR_GEN]: { min: 256, max: 256 } } });
    expect(row(r.bundleDir, 'signer')).toMatchObject({ path: 'fallback', mechanism: 'CKM_EC_KEY_PAIR_GEN + CKM_ECDSA' });
    expect(row(r.bundleDir, 'kcv')).toMatchObject({ path: 'fallback', mechanism: 'CKM_AES_ECB' });
    expect(row(r.bundleDir, 'root sign')).toMatchObject({ path: 'fallback', mechanism: 'CKM_RSA_PKCS' });
    const signer = transcriptEvents(r.bundleDir).find((e) => e.type === 'signer.generated')!.data;
    expect(createPublicKey({ key: Buffer.from(signer.spki, 'base64'), format: 'der', type: 'spki' }).asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(verifyBundle(r.bundleDir).checks.filter((c) => !c.ok)).toEqual([]);
    // The KCV made from AES-ECB is the AES-CMAC a recovery computes in software: the recovery accepts the shares.
    const shares = readdirSync(r.sharesOut).filter((f) => f.endsWith('.txt')).sort().map((f) => readFileSync(path.join(r.sharesOut, f), 'utf8').trim());
    const rec = await cli(['recover', '--bundle', r.bundleDir, '--module', env.sandbox.module, '--token', 'narrow-target', '--pin-env', 'KR_PIN'], { stdin: shares.join('\n'), env: { KR_PIN: PIN } });
    expect(rec.stderr).toBe('');
    expect(rec.status).toBe(0);
  }, 240_000);

  it('no EC at all: an aes-256 ceremony signs its transcript with an RSA-3072 signer', async () => {
    const r = await ceremony('aes-256', { hide: [CKM.EC_KEY_PAIR_GEN] }, { exports: false });
    expect(row(r.bundleDir, 'signer')).toMatchObject({ path: 'fallback', mechanism: 'CKM_RSA_PKCS_KEY_PAIR_GEN + CKM_SHA256_RSA_PKCS' });
    const signer = transcriptEvents(r.bundleDir).find((e) => e.type === 'signer.generated')!.data;
    expect(createPublicKey({ key: Buffer.from(signer.spki, 'base64'), format: 'der', type: 'spki' }).asymmetricKeyType).toBe('rsa');
    expect(verifyBundle(r.bundleDir).valid).toBe(true);
  }, 240_000);
});

describe('refusals before anything is made', () => {
  const objects = () => {
    const mod = openModule(env.sandbox.module);
    try {
      const s = mod.login({ label: env.tokenLabel }, PIN);
      const count = s.listObjects().length;
      s.close();
      return count;
    } finally {
      mod.close();
    }
  };

  it('no RFC 5649 and RSA-OAEP without its wrap flag: refused naming each missing capability, no object, no bundle', async () => {
    const before = objects();
    const err = await ceremony('ec-p384', { hide: [CKM.KWP, CKM.PAD], dropFlags: { [CKM.RSA_PKCS_OAEP]: CKF_WRAP } }).catch((e) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/backup wrap: neither CKM_AES_KEY_WRAP_KWP nor CKM_AES_KEY_WRAP_PAD/);
    expect((err as Error).message).toMatch(/export wrap: CKM_RSA_PKCS_OAEP is listed for ENCRYPT\/DECRYPT/);
    expect(objects()).toBe(before);
  });

  it('hsm list and the ceremony preflight give the same verdict for every root algorithm', () => {
    const narrowing: Narrowing = { sizes: { [CKM.RSA_PKCS_KEY_PAIR_GEN]: { min: 1024, max: 3072 } }, hide: [CKM.AES_CMAC] };
    const open = narrowedOpenModule(narrowing);
    const mod = open(env.sandbox.module);
    let lines: string[];
    try {
      const t = mod.findToken({ label: env.tokenLabel });
      lines = capabilityLines(mod.mechanisms({ label: env.tokenLabel }), t.flags);
    } finally {
      mod.close();
    }
    expect(lines.join('\n')).toMatch(/REFUSED\s+rsa-4096\s+root keygen: rsa-4096: CKM_RSA_PKCS_KEY_PAIR_GEN takes 1024..3072, not 4096/);
    for (const alg of ROOT_ALGORITHMS) {
      const listed = lines.find((l) => new RegExp(`^\\s+(usable|REFUSED)\\s+${alg}\\s`).test(l))!;
      const dir = path.join(env.work, `agree-${alg}`);
      const planFile = demoPlan(dir, `agree-${alg}`, alg, false);
      const c = Ceremony.load(planFile, { outDir: path.join(dir, 'out'), frontEnd: 'cli', rehearsal: true, openModule: open });
      try {
        const check = c.preflight().checks.find((x) => x.name === 'capabilities')!;
        expect(check.ok, `${alg}: hsm list says "${listed.trim()}", preflight says "${check.detail}"`).toBe(/usable/.test(listed));
      } finally {
        c.close();
      }
    }
  });
});
