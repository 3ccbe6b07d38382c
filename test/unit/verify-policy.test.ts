/**
 * `keyrite verify --policy FILE` (docs/policy.md): what the online side runs before it imports. Each rule
 * is checked against bundles that break it and bundles that keep it; a policy that cannot be read
 * or breaks the schema is exit 2; a broken rule is INVALID, exit 1. Without a policy the same facts
 * are warnings.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIO } from '../../electron/cli/command.ts';
import { main } from '../../electron/cli/keyrite.ts';
import { verifyBundle, type Policy } from '../../electron/core/verify/index.ts';
import { parsePolicy } from '../../electron/core/verify/policy-file.ts';
import { makeSoftwareBundle, type SoftwareBundle } from '../helpers/bundle-fixture.ts';
import { cosign, newCosigner, rerun, statementDigest, type Cosigner } from '../helpers/cosign-fixture.ts';

const tmp = mkdtempSync(path.join(tmpdir(), 'keyrite-verify-policy-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let rehearsal: SoftwareBundle;
/** A production-like bundle: not a rehearsal, everyone checked in, the root sealed, no network. */
let production: SoftwareBundle;
let copies = 0;
const participants = ['ada', 'wes', 'c1', 'c2', 'c3'];
beforeAll(() => {
  rehearsal = makeSoftwareBundle(path.join(tmp, 'rehearsal'));
  production = makeSoftwareBundle(path.join(tmp, 'production'));
  rerun(production, {
    started: (d) => void (d.rehearsal = false),
    events: (evs) => {
      const checkins = participants.map((id, i) => ({ ...evs[0], seq: 1 + i, type: 'participant.checked-in', actor: id, data: { participant: id, role: id === 'ada' ? 'administrator' : id === 'wes' ? 'witness' : 'custodian' } }));
      const exportAt = evs.findIndex((e) => e.type === 'export.created');
      const sealed = { ...evs[exportAt], type: 'key.sealed', actor: 'system', data: { label: production.ceremonyId, id: '02', extractable: false } };
      return [evs[0], ...checkins, ...evs.slice(1, exportAt + 1), sealed, ...evs.slice(exportAt + 1)];
    },
  });
});
function fresh(from: SoftwareBundle): SoftwareBundle {
  const dir = path.join(tmp, `copy-${copies++}`);
  cpSync(from.dir, dir, { recursive: true });
  return { ...from, dir };
}

const failed = (r: { checks: { name: string; ok: boolean }[] }) => r.checks.filter((c) => !c.ok).map((c) => c.name);
const policy = (p: Omit<Policy, 'version'>): Policy => parsePolicy({ version: 1, ...p }, 'test');

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIO = {
    stdout: (t) => void (out += t), stderr: (t) => void (err += t), readStdin: async () => '', stdinIsTTY: false,
    promptSecret: async () => '', prompt: async () => '', env: {}, cwd: tmp,
  };
  return { code: await main(argv, io), out, err };
}
function policyFile(name: string, content: unknown): string {
  writeFileSync(path.join(tmp, name), typeof content === 'string' ? content : JSON.stringify(content));
  return name;
}

describe('without a policy', () => {
  it('a production-like bundle is VALID with only the co-signature and one-time signer warnings', () => {
    const r = verifyBundle(production.dir);
    expect(failed(r)).toEqual([]);
    expect(r.verdict).toBe('VALID');
    expect(r.warnings.map((w) => w.split(':')[0])).toEqual(['co-signatures', 'one-time signer']);
  });

  it('a rehearsal is VALID (REHEARSAL) with its warnings', () => {
    const r = verifyBundle(rehearsal.dir);
    expect(r.verdict).toBe('VALID (REHEARSAL)');
    expect(r.warnings).toContain('rehearsal: this bundle records a rehearsal, not a production ceremony');
    expect(r.warnings).toContain('check-in: 5 participants never checked in (ada, wes, c1, c2, c3)');
    expect(r.warnings).toContain('sealed: the root was left extractable (no key.sealed event reads back extractable false)');
  });

  it('warns of a network interface up and of sealAfterExport false', () => {
    const b = fresh(production);
    rerun(b, {
      plan: (p) => void (p.key.sealAfterExport = false),
      started: (d) => void d.host.networkInterfaces.push({ name: 'eth0', up: true, internal: false, addresses: ['10.0.0.5/24'] }),
    });
    const r = verifyBundle(b.dir);
    expect(r.verdict).toBe('VALID');
    expect(r.warnings).toContain('network: a network interface was up during the ceremony (eth0)');
    expect(r.warnings).toContain('sealed: the plan sets key.sealAfterExport to false');
  });
});

describe('policy rules', () => {
  it('an empty policy sets no rule and adds no check', () => {
    const r = verifyBundle(production.dir, { policy: policy({}) });
    expect(r.checks.filter((c) => c.name.startsWith('policy.'))).toEqual([]);
    expect(r.verdict).toBe('VALID');
  });

  it('rehearsal: false fails a rehearsal bundle; true accepts it without a warning', () => {
    const r = verifyBundle(rehearsal.dir, { policy: policy({ rehearsal: false }) });
    expect(r.verdict).toBe('INVALID');
    expect(failed(r)).toEqual(['policy.rehearsal']);
    expect(verifyBundle(production.dir, { policy: policy({ rehearsal: false }) }).verdict).toBe('VALID');
    const ok = verifyBundle(rehearsal.dir, { policy: policy({ rehearsal: true }) });
    expect(ok.verdict).toBe('VALID (REHEARSAL)');
    expect(ok.warnings.some((w) => w.startsWith('rehearsal:'))).toBe(false);
  });

  it('networkUp: false fails a ceremony with an interface up, or one acknowledged at the CLI', () => {
    const b = fresh(production);
    rerun(b, { started: (d) => void d.host.networkInterfaces.push({ name: 'wlan0', up: true, internal: false, addresses: [] }) });
    const r = verifyBundle(b.dir, { policy: policy({ networkUp: false }) });
    expect(failed(r)).toEqual(['policy.network-up']);
    expect(r.checks.find((c) => c.name === 'policy.network-up')!.detail).toContain('wlan0');
    expect(verifyBundle(production.dir, { policy: policy({ networkUp: false }) }).valid).toBe(true);

    const c = fresh(production);
    rerun(c, { events: (evs) => [...evs.slice(0, 2), { ...evs[1], type: 'exception.recorded', actor: 'ada', data: { text: 'eth0 is up; acknowledged', step: 'network' } }, ...evs.slice(2)] });
    expect(failed(verifyBundle(c.dir, { policy: policy({ networkUp: false }) }))).toEqual(['policy.network-up']);
  });

  it('checkedIn: true fails when a participant never checked in', () => {
    expect(failed(verifyBundle(rehearsal.dir, { policy: policy({ checkedIn: true }) }))).toEqual(['policy.checked-in']);
    expect(verifyBundle(production.dir, { policy: policy({ checkedIn: true }) }).valid).toBe(true);
  });

  it('sealed: true fails an extractable root or sealAfterExport false', () => {
    expect(failed(verifyBundle(rehearsal.dir, { policy: policy({ sealed: true }) }))).toEqual(['policy.sealed']);
    expect(verifyBundle(production.dir, { policy: policy({ sealed: true }) }).valid).toBe(true);
    const b = fresh(production);
    rerun(b, { plan: (p) => void (p.key.sealAfterExport = false) });
    expect(failed(verifyBundle(b.dir, { policy: policy({ sealed: true }) }))).toEqual(['policy.sealed']);
  });

  it('ceremonyId, root and statementSha256 must match', () => {
    const digest = statementDigest(production.dir);
    const good = policy({ ceremonyId: production.ceremonyId, root: { algorithm: 'ec-p384', publicKeySha256: production.root.publicKeySha256 }, statementSha256: digest });
    const r = verifyBundle(production.dir, { policy: good });
    expect(failed(r)).toEqual([]);
    expect(r.checks.find((c) => c.name === 'statement.expected')!.status).toBe('pass');
    expect(failed(verifyBundle(production.dir, { policy: policy({ ceremonyId: 'other-root-2026' }) }))).toEqual(['policy.ceremony-id']);
    expect(failed(verifyBundle(production.dir, { policy: policy({ root: { algorithm: 'ec-p256' } }) }))).toEqual(['policy.root']);
    expect(failed(verifyBundle(production.dir, { policy: policy({ root: { publicKeySha256: 'ab'.repeat(32) } }) }))).toEqual(['policy.root']);
    expect(failed(verifyBundle(production.dir, { policy: policy({ statementSha256: 'ab'.repeat(32) }) }))).toEqual(['statement.expected']);
  });

  it('signers: every listed keyid signed', () => {
    expect(verifyBundle(production.dir, { policy: policy({ signers: [production.ceremonyKeyid] }) }).valid).toBe(true);
    expect(failed(verifyBundle(production.dir, { policy: policy({ signers: ['cd'.repeat(32)] }) }))).toEqual(['signers.expected']);
  });

  describe('co-signer quorum', () => {
    let w1: Cosigner;
    let w2: Cosigner;
    let w3: Cosigner;
    let plan: SoftwareBundle;
    beforeAll(() => {
      w1 = newCosigner('wes', 'witness');
      w2 = newCosigner('wil', 'witness');
      w3 = newCosigner('ada', 'administrator');
      plan = fresh(production);
      rerun(plan, { plan: (p) => void p.participants.push({ id: 'wil', name: 'Wil Witness', role: 'witness' }) });
    });

    it('two witnesses co-sign: min 2 VALID; with one co-signature INVALID', () => {
      const quorum = policy({ cosigners: { keyids: [w1.keyid, w2.keyid, w3.keyid], min: 2 } });
      const two = fresh(plan);
      cosign(two.dir, w1);
      cosign(two.dir, w2);
      const r = verifyBundle(two.dir, { policy: quorum });
      expect(failed(r)).toEqual([]);
      expect(r.verdict).toBe('VALID');
      expect(r.checks.find((c) => c.name === 'policy.cosigners')!.detail).toMatch(/^2 of 3 co-signers signed \(wes [0-9a-f]{12}…, wil [0-9a-f]{12}…\); the policy needs 2$/);

      const one = fresh(plan);
      cosign(one.dir, w1);
      const r1 = verifyBundle(one.dir, { policy: quorum });
      expect(r1.verdict).toBe('INVALID');
      expect(failed(r1)).toEqual(['policy.cosigners']);
    });

    it('a co-signer outside the policy does not count; min defaults to every keyid', () => {
      const b = fresh(plan);
      cosign(b.dir, w1);
      cosign(b.dir, w3);
      expect(failed(verifyBundle(b.dir, { policy: policy({ cosigners: { keyids: [w1.keyid, w2.keyid], min: 2 } }) }))).toEqual(['policy.cosigners']);
      expect(failed(verifyBundle(b.dir, { policy: policy({ cosigners: { keyids: [w1.keyid, w3.keyid] } }) }))).toEqual([]);
    });
  });
});

describe('a policy on a ceremony that stopped early', () => {
  it('stays INCOMPLETE (with the last step): a rule that fails on an unfinished run is not damage', () => {
    const stopped = makeSoftwareBundle(path.join(tmp, 'stopped'), { stopAfter: 'backup.split' });
    const r = verifyBundle(stopped.dir, { policy: policy({ rehearsal: false, cosigners: { keyids: ['ab'.repeat(32)] } }) });
    expect(failed(r)).toContain('policy.rehearsal');
    expect(r).toMatchObject({ valid: false, complete: false, verdict: 'INCOMPLETE: stopped after backup.split' });
  });
});

describe('the policy file (CLI)', () => {
  it('VALID under a policy: exit 0; a broken rule: INVALID, exit 1 naming the rule', async () => {
    const ok = await run('verify', 'production', '--policy', policyFile('ok.json', { version: 1, rehearsal: false, checkedIn: true }));
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/^Bundle production \(policy ok\.json\)\n/);
    expect(ok.out).toContain('PASS policy.rehearsal — not a rehearsal\n');
    expect(ok.out.trimEnd().split('\n').at(-1)).toBe('VALID');
    const bad = await run('verify', 'rehearsal', '--policy', 'ok.json');
    expect(bad.code).toBe(1);
    expect(bad.out).toContain('FAIL policy.rehearsal — the bundle is a rehearsal; the policy does not accept rehearsals\n');
    expect(bad.err).toBe('keyrite: error: bundle rehearsal is not valid: policy.rehearsal: the bundle is a rehearsal; the policy does not accept rehearsals\n');
    const j = JSON.parse((await run('verify', 'rehearsal', '--policy', 'ok.json', '--json')).out);
    expect(j).toMatchObject({ valid: false, verdict: 'INVALID' });
  });

  const refusals: [string, unknown, RegExp][] = [
    ['an unknown key', { version: 1, rehersal: false }, /^keyrite: error: policy p\.json: \(policy\): unknown key 'rehersal'\n$/],
    ['an unknown nested key', { version: 1, root: { algo: 'ec-p384' } }, /^keyrite: error: policy p\.json: root: unknown key 'algo'\n$/],
    ['no version', { rehearsal: false }, /^keyrite: error: policy p\.json: version: /],
    ['version 2', { version: 2 }, /^keyrite: error: policy p\.json: version: /],
    ['a keyid that is not hex', { version: 1, signers: ['xyz'] }, /^keyrite: error: policy p\.json: signers\[0\]: is not 64 lowercase hex digits\n$/],
    ['a quorum larger than its keys', { version: 1, cosigners: { keyids: ['ab'.repeat(32)], min: 2 } }, /^keyrite: error: policy p\.json: cosigners\.min: min is more than the number of keyids\n$/],
    ['a wrong recoveries rule', { version: 1, recoveries: 'some' }, /^keyrite: error: policy p\.json: recoveries: /],
    ['JSON that does not parse', '{"version": 1,', /^keyrite: error: policy p\.json is not valid JSON: /],
  ];
  for (const [what, content, err] of refusals) {
    it(`exit 2 for ${what}`, async () => {
      const r = await run('verify', 'production', '--policy', policyFile('p.json', content));
      expect(r.code).toBe(2);
      expect(r.out).toBe('');
      expect(r.err).toMatch(err);
    });
  }

  it('exit 2 for a policy that does not exist', async () => {
    const r = await run('verify', 'production', '--policy', 'gone.json');
    expect(r.code).toBe(2);
    expect(r.err).toBe('keyrite: error: policy gone.json does not exist\n');
  });

  it('--expect-statement: the right digest passes, another fails (exit 1), a malformed one is exit 2', async () => {
    const digest = statementDigest(production.dir);
    const ok = await run('verify', 'production', '--expect-statement', digest.toUpperCase());
    expect(ok.code).toBe(0);
    expect(ok.out).toContain(`PASS statement.expected — the statement digest ${digest} is the expected one\n`);
    const other = await run('verify', 'production', '--expect-statement', 'ab'.repeat(32));
    expect(other.code).toBe(1);
    expect(other.out).toContain(`FAIL statement.expected — the statement digest is ${digest}, not ${'ab'.repeat(32)} (--expect-statement)\n`);
    const bad = await run('verify', 'production', '--expect-statement', '1234');
    expect(bad.code).toBe(2);
    expect(bad.err).toBe("keyrite: error: verify: --expect-statement '1234' is not a SHA-256 (64 hex digits)\n");
  });
});
