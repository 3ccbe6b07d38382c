/**
 * tpm2-pkcs11 over swtpm, set up from scratch by this run (test/helpers/tpm2-sandbox.ts): `hsm
 * list`, a ceremony per algorithm (completed, or refused before any token object exists, naming
 * each missing capability), and `ceremony abort` and `recover` finding the right token although
 * tpm2-pkcs11 gives every token the serial 0000000000000000 — two tokens here prove it.
 *
 * The tools must be installed (CI: .ci/run); without them this file fails, saying what to install.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSoftHsmSandbox, type SoftHsmSandbox } from '../../electron/core/hsm/softhsm.ts';
import { ALGORITHMS, attemptCeremony, crashedBundle, describeModule, keyrite, listedToken, agreementProblems, isUsable, oneErrorLine, recordObserved, type CeremonyAttempt, type CliHost } from '../helpers/foreign-tokens.ts';
import { startTpm2, TPM2_SERIAL, type Tpm2Sandbox } from '../helpers/tpm2-sandbox.ts';
import { runCeremony } from './recover-fixtures.ts';

const A = 'keyrite-tpm-a';
const B = 'keyrite-tpm-b';
let tpm: Tpm2Sandbox;
let host: CliHost;
let work: string;
let listOut = '';
const attempts: CeremonyAttempt[] = [];
/** abort and recover, for the record (docs/hsm-compat-observed.md). */
const operations: { what: string; outcome: string; detail: string }[] = [];

beforeAll(() => {
  tpm = startTpm2({ labels: [A, B] });
  work = mkdtempSync(path.join(os.tmpdir(), 'keyrite-tpm2-work-'));
  host = { env: tpm.env, cwd: work };
}, 120_000);

afterAll(() => {
  recordObserved('tpm2-pkcs11', { module: tpm?.module, hsmList: listedToken(listOut, B), ceremonies: attempts.map(({ algorithm, outcome, message }) => ({ algorithm, outcome, message })), operations });
  tpm?.dispose();
  if (work) rmSync(work, { recursive: true, force: true });
});

/**
 * What tpm2-pkcs11 1.9 lacks, from its mechanism list: no wrap mechanism at all (so no RFC 5649
 * backup), RSA keys only up to 3072 bits, no EdDSA. Each refusal must name these.
 */
const MUST_NAME: Record<string, RegExp[]> = {
  'aes-256': [/RFC 5649|KWP|KEY_WRAP/],
  'ec-p256': [/RFC 5649|KWP|KEY_WRAP/],
  'ec-p384': [/RFC 5649|KWP|KEY_WRAP/],
  'rsa-3072': [/RFC 5649|KWP|KEY_WRAP/],
  'rsa-4096': [/RFC 5649|KWP|KEY_WRAP/, /4096/],
  ed25519: [/RFC 5649|KWP|KEY_WRAP/, /EC_EDWARDS|[Ee]d25519/],
};

describe('tpm2-pkcs11 over swtpm', () => {
  it('hsm list shows both tokens, each with the serial 0000000000000000, and judges the mechanisms', () => {
    const r = keyrite(host, ['hsm', 'list', '--module', tpm.module]);
    expect(r.code, r.stderr).toBe(0);
    listOut = r.stdout;
    for (const t of tpm.tokens) expect(r.stdout).toMatch(new RegExp(`slot ${t.slot}\\b[\\s\\S]*?'${t.label}'[\\s\\S]*?serial:\\s+${TPM2_SERIAL}`));
    const listed = listedToken(r.stdout, B);
    expect(listed.capabilities.length, r.stdout).toBeGreaterThan(3);
    // Twins: the same module, the same judgement.
    expect(listedToken(r.stdout, A)).toEqual(listed);
    if (Object.keys(listed.algorithms).length) {
      // tpm2-pkcs11 offers no wrap mechanism at all: no root algorithm can be backed up.
      for (const alg of ALGORITHMS) {
        expect(listed.algorithms[alg]?.status, r.stdout).toBe('REFUSED');
        expect(listed.algorithms[alg]?.detail).toMatch(/KWP|KEY_WRAP/);
      }
      expect(listed.algorithms['rsa-4096']?.detail).toMatch(/4096/);
    } else {
      const kwp = listed.capabilities.filter((x) => /KWP|KEY_WRAP/.test(x.mechanism));
      expect(kwp.length, r.stdout).toBeGreaterThan(0);
      for (const x of kwp) expect(isUsable(x.status)).toBe(false);
    }
  });

  for (const algorithm of ALGORITHMS) {
    it(`${algorithm} ceremony on token b: completes, or is refused before any token object exists, naming what is missing`, () => {
      const at = attemptCeremony(host, { work, module: tpm.module, tokenLabel: B, pin: tpm.pin, algorithm, id: `tpm-${algorithm}`, objectLabels: () => [...tpm.objectLabels(A), ...tpm.objectLabels(B)] });
      attempts.push(at);
      // hsm list and the preflight agree (same judgement, same reason).
      expect(agreementProblems(listedToken(listOut, B), at)).toEqual([]);
      if (at.outcome === 'completed') {
        expect(at.message).toMatch(/^VALID/);
        return;
      }
      expect(at.code).toBe(1);
      const line = oneErrorLine({ code: at.code, stdout: '', stderr: at.message });
      // The token was found by its label although both tokens have the same serial.
      expect(line).not.toMatch(/tokens are (labelled|with serial)|give the serial/);
      expect(at.objectsAfter).toEqual(at.objectsBefore);
      for (const re of MUST_NAME[algorithm]!) expect(line).toMatch(re);
    });
  }

  it('hsm list --prove logs in to the named twin (by label, not serial) and leaves no object on either', () => {
    const before = [tpm.objectLabels(A), tpm.objectLabels(B)];
    const r = keyrite(host, ['hsm', 'list', '--module', tpm.module, '--prove', '--token', B, '--pin-env', 'KR_PIN'], { KR_PIN: tpm.pin });
    expect(r.code, r.stderr).toBe(0);
    const slotB = tpm.tokens.find((t) => t.label === B)!.slot;
    expect(r.stdout).toMatch(new RegExp(`proofs on '${B}' \\(slot ${slotB}\\)`));
    expect([tpm.objectLabels(A), tpm.objectLabels(B)]).toEqual(before);
    const proofs = r.stdout.slice(r.stdout.indexOf(`proofs on '${B}'`)).trim();
    operations.push({ what: 'hsm list --prove', outcome: 'proved', detail: proofs.split('\n').slice(1).map((l) => l.trim().replace(/\s{2,}/g, ': ')).join('; ') });
  });

  it('a ceremony with a KMS export is refused naming the export wrap too (RSA-OAEP offered for encrypt only)', () => {
    const at = attemptCeremony(host, { work, module: tpm.module, tokenLabel: B, pin: tpm.pin, algorithm: 'aes-256', id: 'tpm-export', awsExport: true, objectLabels: () => [...tpm.objectLabels(A), ...tpm.objectLabels(B)] });
    expect(at.outcome).toBe('refused');
    const line = oneErrorLine({ code: at.code, stdout: '', stderr: at.message });
    expect(at.objectsAfter).toEqual(at.objectsBefore);
    expect(line).toMatch(/KWP|KEY_WRAP/);
    expect(line).toMatch(/CKM_RSA_PKCS_OAEP/);
    operations.push({ what: 'ceremony with an AWS KMS export (aes-256)', outcome: 'refused', detail: line.replace(/^keyrite: error: /, '') });
  });

  it('ceremony abort removes the crashed ceremony\'s key from the token it selected, not from its twin with the same serial', () => {
    const desc = describeModule(host, tpm.module);
    const tokB = desc.tokens.find((t) => t.label === B)!;
    expect(desc.tokens.filter((t) => t.serialNumber === TPM2_SERIAL).length).toBeGreaterThanOrEqual(2);
    const id = 'tpm-crashed';
    const keyId = 'a1b2c3d4e5f60718';
    const { bundle, signerLabel } = crashedBundle({ dir: path.join(work, 'crashed'), id, module: desc.info, token: tokB, selectedBy: 'label', keyId });
    // The same label and id on both tokens: only the token the transcript names may lose them.
    for (const label of [A, B])
      execFileSync('pkcs11-tool', ['--module', tpm.module, '--token-label', label, '--login', '--pin', tpm.pin, '--keypairgen', '--key-type', 'EC:secp384r1', '--label', signerLabel, '--id', keyId], { env: tpm.env, stdio: 'ignore', timeout: 60_000 });
    expect(tpm.objectLabels(A).filter((l) => l === signerLabel)).toHaveLength(2);
    expect(tpm.objectLabels(B).filter((l) => l === signerLabel)).toHaveLength(2);

    const r = keyrite(host, ['ceremony', 'abort', bundle, '--reason', 'test: crashed after key generation', '--yes', '--pin-env', 'KR_PIN'], { KR_PIN: tpm.pin });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    operations.push({ what: 'ceremony abort (crash after key generation)', outcome: 'aborted', detail: `removed the announced key from '${B}' only; its twin '${A}' (same serial ${TPM2_SERIAL}) kept its key with the same label and id` });
    expect(tpm.objectLabels(B).filter((l) => l === signerLabel)).toEqual([]);
    expect(tpm.objectLabels(A).filter((l) => l === signerLabel)).toHaveLength(2);
    const status = keyrite(host, ['ceremony', 'status', bundle]);
    expect(status.stdout).toMatch(new RegExp(`'${B}'`));
  });

  describe('recover onto tpm2-pkcs11', () => {
    let soft: SoftHsmSandbox;
    beforeAll(() => {
      soft = createSoftHsmSandbox();
      soft.initToken('src', '112233');
      process.env.SOFTHSM2_CONF = soft.confPath;
    });
    afterAll(() => soft?.dispose());

    it('selects the named token among twins with the same serial, and refuses a token that cannot unwrap before anything is made', async () => {
      const c = await runCeremony(soft, work, { id: 'tpm-recover-src', algorithm: 'ec-p256', tokenLabel: 'src', pin: '112233', threshold: 2, count: 3 });
      const before = [tpm.objectLabels(A), tpm.objectLabels(B)];
      const r = keyrite(host, ['recover', '--bundle', c.bundle, '--module', tpm.module, '--token', B, '--pin-env', 'KR_PIN'], { KR_PIN: tpm.pin }, c.shares.slice(0, 2).join('\n') + '\n');
      operations.push({ what: `recover (ec-p256 bundle from SoftHSM)`, outcome: r.code === 0 ? 'restored' : 'refused', detail: r.code === 0 ? r.stdout.trim().split('\n').pop()! : r.stderr.trim() });
      if (r.code === 0) {
        expect(tpm.objectLabels(B)).toContain(c.label);
        expect(tpm.objectLabels(A)).toEqual(before[0]);
        return;
      }
      const line = oneErrorLine(r);
      expect(line).not.toMatch(/tokens are (labelled|with serial)|give the serial/);
      expect(line).toMatch(/RFC 5649|KWP|KEY_WRAP|unwrap/i);
      expect(line).toContain(`'${B}'`);
      expect([tpm.objectLabels(A), tpm.objectLabels(B)]).toEqual(before);
    });
  });
});
