/**
 * opencryptoki's soft token, set up from scratch by this run in a private mount + IPC namespace
 * (test/helpers/opencryptoki-sandbox.ts). The Keyrite CLI runs inside that namespace (nsenter), as
 * it would on a machine where opencryptoki is installed: `hsm list`, a ceremony per algorithm
 * (completed and VALID, or refused before any token object exists, naming each missing
 * capability), `ceremony abort` and `recover`.
 *
 * Needs root, opencryptoki and opensc (CI: .ci/run); without them this file fails, saying what to install.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSoftHsmSandbox, type SoftHsmSandbox } from '../../electron/core/hsm/softhsm.ts';
import { ALGORITHMS, attemptCeremony, crashedBundle, describeModule, keyrite, listedToken, agreementProblems, isUsable, oneErrorLine, recordObserved, type CeremonyAttempt, type CliHost } from '../helpers/foreign-tokens.ts';
import { startOpencryptoki, type OpencryptokiSandbox } from '../helpers/opencryptoki-sandbox.ts';
import { runCeremony } from './recover-fixtures.ts';

let ock: OpencryptokiSandbox;
let host: CliHost;
let work: string;
let listOut = '';
const attempts: CeremonyAttempt[] = [];
/** abort and recover, for the record (docs/hsm-compat-observed.md). */
const operations: { what: string; outcome: string; detail: string }[] = [];

beforeAll(() => {
  ock = startOpencryptoki({ tokenLabel: 'keyrite-ock' });
  work = mkdtempSync(path.join(os.tmpdir(), 'keyrite-ock-work-'));
  host = { env: process.env, cwd: work, wrap: (argv, cwd) => ock.inside(argv, cwd) };
}, 120_000);

afterAll(() => {
  recordObserved('opencryptoki', { module: ock?.module, hsmList: listedToken(listOut, 'keyrite-ock'), ceremonies: attempts.map(({ algorithm, outcome, message }) => ({ algorithm, outcome, message })), operations });
  ock?.dispose();
  if (work) rmSync(work, { recursive: true, force: true });
});

/**
 * What opencryptoki 3.8's soft token lacks, from its mechanism list: no EC of any kind (so no EC
 * root, and the P-384 signer only by a fallback), no EdDSA, no RFC 5649 wrap. An EC or Ed25519
 * ceremony is refused whatever fallbacks exist, and its refusal must name the missing keygen.
 */
const MUST_REFUSE: Record<string, RegExp[]> = {
  'ec-p256': [/CKM_EC_KEY_PAIR_GEN|EC key/],
  'ec-p384': [/CKM_EC_KEY_PAIR_GEN|EC key/],
  ed25519: [/CKM_EC_EDWARDS_KEY_PAIR_GEN|[Ee]d25519/],
};

describe("opencryptoki's soft token", () => {
  it('hsm list (inside the namespace) shows the token and marks what it lacks', () => {
    const r = keyrite(host, ['hsm', 'list', '--module', ock.module]);
    expect(r.code, r.stderr).toBe(0);
    listOut = r.stdout;
    expect(r.stdout).toMatch(new RegExp(`slot ${ock.slot}\\b[\\s\\S]*?'keyrite-ock'[\\s\\S]*?serial:\\s+${ock.serial}`));
    const listed = listedToken(r.stdout, 'keyrite-ock');
    expect(listed.capabilities.length, r.stdout).toBeGreaterThan(3);
    if (Object.keys(listed.algorithms).length) {
      for (const alg of Object.keys(MUST_REFUSE)) {
        expect(listed.algorithms[alg]?.status, r.stdout).toBe('REFUSED');
        for (const re of MUST_REFUSE[alg]!) expect(listed.algorithms[alg]?.detail).toMatch(re);
      }
    } else {
      const ecGen = listed.capabilities.filter((x) => x.mechanism === 'CKM_EC_KEY_PAIR_GEN');
      expect(ecGen.length, r.stdout).toBeGreaterThan(0);
      for (const x of ecGen) expect(isUsable(x.status)).toBe(false);
    }
  });

  for (const algorithm of ALGORITHMS) {
    it(`${algorithm} ceremony: completes and verifies, or is refused before any token object exists, naming what is missing`, () => {
      const at = attemptCeremony(host, { work, module: ock.module, tokenLabel: 'keyrite-ock', pin: ock.pin, algorithm, id: `ock-${algorithm}`, objectLabels: () => ock.objectLabels() });
      attempts.push(at);
      // hsm list and the preflight agree (same judgement, same reason).
      expect(agreementProblems(listedToken(listOut, 'keyrite-ock'), at)).toEqual([]);
      if (at.outcome === 'completed') {
        expect(MUST_REFUSE[algorithm], `${algorithm} completed on a token without its key type`).toBeUndefined();
        expect(at.message).toMatch(/^VALID/);
        return;
      }
      expect(at.code).toBe(1);
      const line = oneErrorLine({ code: at.code, stdout: '', stderr: at.message });
      expect(at.objectsAfter).toEqual(at.objectsBefore);
      for (const re of MUST_REFUSE[algorithm] ?? [/RFC 5649|KWP|KEY_WRAP|CBC_PAD/]) expect(line).toMatch(re);
    });
  }

  it('hsm list --prove (inside the namespace) runs the login proofs and leaves no object on the token', () => {
    const before = ock.objectLabels();
    const r = keyrite(host, ['hsm', 'list', '--module', ock.module, '--prove', '--token', 'keyrite-ock', '--pin-env', 'KR_PIN'], { KR_PIN: ock.pin });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`proofs on 'keyrite-ock' \\(slot ${ock.slot}\\)`));
    expect(ock.objectLabels()).toEqual(before);
    const proofs = r.stdout.slice(r.stdout.indexOf("proofs on 'keyrite-ock'")).trim();
    operations.push({ what: 'hsm list --prove', outcome: 'proved', detail: proofs.split('\n').slice(1).map((l) => l.trim().replace(/\s{2,}/g, ': ')).join('; ') });
  });

  it("ceremony abort (inside the namespace) removes the crashed ceremony's key from the token and nothing else", () => {
    const desc = describeModule(host, ock.module);
    const tok = desc.tokens.find((t) => t.label === 'keyrite-ock')!;
    const id = 'ock-crashed';
    const keyId = '0f1e2d3c4b5a6978';
    const { bundle, signerLabel } = crashedBundle({ dir: path.join(work, 'crashed'), id, module: desc.info, token: tok, selectedBy: 'label', keyId });
    const keep = 'not-this-ceremony';
    // opencryptoki 3.8 has no EC: the announced key is an RSA pair with the announced label and id.
    for (const [label, kid] of [[signerLabel, keyId], [keep, '99']] as const) {
      const [cmd, ...args] = ock.inside(['pkcs11-tool', '--module', ock.module, '--slot', String(ock.slot), '--login', '--pin', ock.pin, '--keypairgen', '--key-type', 'rsa:2048', '--label', label, '--id', kid], work);
      const g = spawnSync(cmd!, args, { encoding: 'utf8', timeout: 60_000 });
      expect(g.status, g.stderr).toBe(0);
    }
    expect(ock.objectLabels().filter((l) => l === signerLabel)).toHaveLength(2);

    const r = keyrite(host, ['ceremony', 'abort', bundle, '--reason', 'test: crashed after key generation', '--yes', '--pin-env', 'KR_PIN'], { KR_PIN: ock.pin });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    operations.push({ what: 'ceremony abort (crash after key generation)', outcome: 'aborted', detail: 'removed the announced key from the token the transcript names; other objects untouched' });
    expect(ock.objectLabels().filter((l) => l === signerLabel)).toEqual([]);
    expect(ock.objectLabels().filter((l) => l === keep)).toHaveLength(2);
  });

  describe('recover onto opencryptoki', () => {
    let soft: SoftHsmSandbox;
    beforeAll(() => {
      soft = createSoftHsmSandbox();
      soft.initToken('src', '112233');
      process.env.SOFTHSM2_CONF = soft.confPath;
    });
    afterAll(() => soft?.dispose());

    it('restores onto the token, or refuses a token that cannot unwrap the backup before anything is made', async () => {
      const c = await runCeremony(soft, work, { id: 'ock-recover-src', algorithm: 'aes-256', tokenLabel: 'src', pin: '112233', threshold: 2, count: 3 });
      const before = ock.objectLabels();
      const r = keyrite(host, ['recover', '--bundle', c.bundle, '--module', ock.module, '--token', 'keyrite-ock', '--pin-env', 'KR_PIN'], { KR_PIN: ock.pin }, c.shares.slice(0, 2).join('\n') + '\n');
      operations.push({ what: `recover (aes-256 bundle from SoftHSM)`, outcome: r.code === 0 ? 'restored' : 'refused', detail: r.code === 0 ? r.stdout.trim().split('\n').pop()! : r.stderr.trim() });
      if (r.code === 0) {
        expect(ock.objectLabels()).toContain(c.label);
        return;
      }
      const line = oneErrorLine(r);
      expect(line).toMatch(/RFC 5649|KWP|KEY_WRAP|unwrap/i);
      expect(line).toContain("'keyrite-ock'");
      expect(ock.objectLabels()).toEqual(before);
    });
  });
});
