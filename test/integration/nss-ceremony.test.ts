/**
 * Keyrite on NSS softoken (libsoftokn3.so), as Debian ships it: each token is an NSS database made
 * with certutil, opened through C_Initialize parameters (hsm.initArgs / --module-args). Every token
 * has the serial 0000000000000000, CKA_LOCAL reads false on keys NSS generated itself, and NSS
 * ignores `unwrap: false` when unwrapping an RSA private key: the ceremony and the recovery must
 * still come out exactly as on SoftHSM.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runHeadlessCeremony } from '../../electron/cli/ceremony-runner.ts';
import { faultInjector } from '../../electron/core/hsm/fault-injection.ts';
import { openModule } from '../../electron/core/hsm/index.ts';
import { captureIO } from '../helpers/ceremony-fixture.ts';
import { USAGE_FLAGS, type KeyAttributes, type RootAlgorithm } from '../../electron/core/hsm/types.ts';
import { verifyBundle } from '../../electron/core/verify/index.ts';
import { findNssSoftoken, haveCertutil, makeNssToken, NSS_INSTALL_HINT, type NssToken } from '../helpers/nss.ts';
import { nssObjects, runNssCeremony, transcriptEvents, writeNssPlan, type NssCeremony } from '../helpers/nss-ceremony.ts';
import { cli } from './recover-fixtures.ts';

const PIN = '482019';
const available = Boolean(findNssSoftoken()) && haveCertutil();
if (!available) console.warn(`nss-ceremony tests skipped: ${NSS_INSTALL_HINT}`);

let work: string;
let tokenA: NssToken;
const done = new Map<RootAlgorithm, NssCeremony>();

beforeAll(() => {
  if (!available) return;
  work = mkdtempSync(path.join(os.tmpdir(), 'keyrite-nss-'));
  tokenA = makeNssToken('keyrite-nss-a', PIN, work);
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

const rootAttributes = (bundle: string) => transcriptEvents(bundle).find((e) => e.type === 'key.generated')!.data.attributes as KeyAttributes;

describe.skipIf(!available)('NSS softoken: ceremonies with all four exports, verify, recovery onto a second NSS token', () => {
  for (const alg of ['aes-256', 'rsa-3072'] as RootAlgorithm[]) {
    describe(alg, () => {
      let c: NssCeremony;
      let tokenB: NssToken;
      let recovered: { status: number; stdout: string; stderr: string };
      let verified: ReturnType<typeof verifyBundle>;

      beforeAll(async () => {
        // aes-256 through hsm.initArgs in the plan, rsa-3072 through --module-args.
        c = await runNssCeremony(tokenA, work, `nss-${alg}`, alg, { initArgsInPlan: alg === 'aes-256' });
        done.set(alg, c);
        verified = verifyBundle(c.bundle);
        tokenB = makeNssToken(`keyrite-nss-b-${alg}`, PIN, work);
        recovered = await cli(
          ['recover', '--bundle', c.bundle, '--module', tokenB.module, '--module-args', tokenB.initArgs, '--token', tokenB.label, '--pin-env', 'KR_PIN'],
          { stdin: c.shares.join('\n') + '\n', env: { KR_PIN: PIN } },
        );
      }, 240_000);

      it('completes with all four export kinds, records the token it chose and how, and verifies VALID', () => {
        const ev = transcriptEvents(c.bundle);
        expect(ev.filter((e) => e.type === 'export.created').map((e) => e.data.kind).sort()).toEqual(['aws-kms', 'azure-byok', 'gcp-kms', 'vault-transit']);
        const sel = ev.find((e) => e.type === 'hsm.selected')!.data;
        expect(sel.token).toMatchObject({ label: 'keyrite-nss-a', serialNumber: '0000000000000000', slotId: '2', selectedBy: 'label' });
        expect(sel.module.initArgs).toBe(tokenA.initArgs);
        expect(sel.capabilities.map((r: { capability: string }) => r.capability)).toEqual(expect.arrayContaining(['signer', 'root keygen', 'kcv', 'backup wrap', 'backup unwrap', 'export wrap']));
        expect(sel.capabilities.every((r: { path: string }) => r.path !== 'refused')).toBe(true);
        const r = verified;
        expect(r.checks.filter((x) => !x.ok).map((x) => `${x.name}: ${x.detail}`)).toEqual([]);
        expect(r.valid).toBe(true);
      });

      it("records NSS's CKA_LOCAL as a quirk proven on a throwaway key, not as a key made elsewhere", () => {
        const ev = transcriptEvents(c.bundle);
        expect(rootAttributes(c.bundle).local).toBe(false);
        const checks = ev.filter((e) => e.type === 'preflight.passed').flatMap((e) => e.data.checks);
        expect(checks.find((x: { name: string }) => x.name === 'attribute quirks')?.detail).toMatch(/CKA_LOCAL reported false on a throwaway/);
        const verified = ev.find((e) => e.type === 'key.verified')!.data.checks;
        expect(verified.find((x: { name: string }) => x.name === 'generated in the token')).toMatchObject({ ok: true, detail: expect.stringMatching(/token quirk/) });
      });

      it("recovers onto a second NSS token with exactly the ceremony's usage flags", () => {
        expect(recovered.stderr).toBe('');
        expect(recovered.status).toBe(0);
        const mod = openModule(tokenB.module, { initArgs: tokenB.initArgs });
        try {
          const s = mod.login({ label: tokenB.label }, PIN);
          const key = s.findKey({ label: rootAttributes(c.bundle).label, kind: alg === 'aes-256' ? 'secret' : 'private' });
          expect(key).toBeDefined();
          const got = s.readAttributes(key!);
          const want = rootAttributes(c.bundle);
          for (const f of USAGE_FLAGS) if (want[f] !== undefined) expect(got[f], `CKA_${f.toUpperCase()}`).toBe(want[f]);
          s.logout();
          s.close();
        } finally {
          mod.close();
        }
        // NSS sets CKA_UNWRAP on an unwrapped RSA private key although the template says false: corrected, and recorded.
        const dir = path.join(c.bundle, 'recoveries');
        const rec = transcriptEvents(path.join(dir, readdirSync(dir)[0]));
        const usage = (rec.find((e) => e.type === 'key.verified')!.data.checks as { name: string; detail: string }[]).find((x) => x.name === 'usage flags')!;
        if (alg === 'rsa-3072') expect(usage.detail).toMatch(/ignored the unwrap template for CKA_UNWRAP true \(ceremony: false\); corrected with C_SetAttributeValue/);
        else expect(usage.detail).toMatch(/every usage flag .* equals the ceremony's/);
      });
    });
  }
});

describe.skipIf(!available)('NSS softoken: EC', () => {
  it('hsm list --prove finds at once what the ceremony login finds: EC keys do not unwrap back; RSA unwrap ignores CKA_UNWRAP', async () => {
    const token = makeNssToken('keyrite-nss-prove', PIN, work);
    const r = await cli(['hsm', 'list', '--module', token.module, '--module-args', token.initArgs, '--prove', '--token', token.label, '--pin-env', 'KR_PIN'], { env: { KR_PIN: PIN } });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/usable\s+ec-p384\s+native/); // by the mechanism list...
    expect(r.stdout).toMatch(/REFUSED\s+ec-p384\s+capability: backup wrap and unwrap of ec-p384: .*\(CKR_TEMPLATE_INCOMPLETE\)/); // ...but not by the proof
    expect(r.stdout).toMatch(/proven\s+rsa-3072\s+5 proofs passed; quirk: CKA_LOCAL false; unwrap ignores CKA_UNWRAP true \(asked false\)/);
    expect(r.stdout).toMatch(/proven\s+aes-256\s/);
    expect(nssObjects(token)).toEqual([]);
  }, 240_000);

  it('an ec-p384 ceremony completes and verifies, or is refused before any token object exists', async () => {
    const token = makeNssToken('keyrite-nss-ec', PIN, work);
    let c: NssCeremony | undefined;
    let error: Error | undefined;
    try {
      c = await runNssCeremony(token, work, 'nss-ec-p384', 'ec-p384');
    } catch (err) {
      error = err as Error;
    }
    if (c) {
      expect(verifyBundle(c.bundle).valid).toBe(true);
    } else {
      // NSS 3.87 wraps EC private keys but cannot unwrap them back (CKR_TEMPLATE_INCOMPLETE): found with throwaway keys at login.
      expect(error!.message).toMatch(/capability: backup wrap and unwrap of ec-p384: .*refused to unwrap/);
      expect(nssObjects(token)).toEqual([]);
    }
  }, 240_000);
});

describe.skipIf(!available)('NSS softoken: abort finds the token again (serial 0000000000000000, C_Initialize parameters)', () => {
  it('a ceremony stopped after key generation is aborted from the transcript alone, and its keys leave the token', async () => {
    const token = makeNssToken('keyrite-nss-abort', PIN, work);
    const inj = faultInjector({ ckr: 'CKR_DEVICE_REMOVED', method: 'wrapKwp', fn: 'C_WrapKey' });
    const dir = path.join(work, 'nss-abort');
    const planFile = writeNssPlan(token, path.join(dir, 'plan'), 'nss-abort', 'aes-256');
    const plan = JSON.parse(readFileSync(planFile, 'utf8'));
    plan.exports = [];
    writeFileSync(planFile, JSON.stringify(plan));
    const shares = path.join(dir, 'shares');
    mkdirSync(shares, { recursive: true });
    await expect(
      runHeadlessCeremony({ planFile, outDir: path.join(dir, 'out'), sharesOut: shares, confirmFrom: shares, ackAll: true,
      rehearsal: true, frontEnd: 'cli', pin: PIN, quiet: true, openModule: inj.openModule }, captureIO()),
    ).rejects.toThrow(/CKR_DEVICE_REMOVED|removed/);
    expect(nssObjects(token).map((o) => o.label).sort()).toEqual(['keyrite-signer:nss-abort', 'keyrite-signer:nss-abort', 'nss-abort-root']);
    const bundle = path.join(dir, 'out', 'nss-abort');
    const r = await cli(['ceremony', 'abort', bundle, '--reason', 'test: token pulled', '--yes', '--pin-env', 'KR_PIN'], { env: { KR_PIN: PIN } });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(nssObjects(token)).toEqual([]);
  }, 240_000);
});
