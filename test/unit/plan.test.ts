import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkPlanObject, loadPlan, PlanError } from '../../electron/core/ceremony/plan.ts';

function basePlan(): any {
  return {
    version: 1,
    id: 'acme-root-2026',
    title: 'ACME production root key',
    participants: [
      { id: 'ada', name: 'Ada Admin', role: 'administrator' },
      { id: 'wes', name: 'Wes Witness', role: 'witness' },
      { id: 'c1', name: 'Carol One', role: 'custodian' },
      { id: 'c2', name: 'Chen Two', role: 'custodian' },
      { id: 'c3', name: 'Cruz Three', role: 'custodian' },
    ],
    hsm: { module: '/usr/lib/softhsm/libsofthsm2.so', tokenLabel: 'ceremony' },
    key: { label: 'acme-root-2026', algorithm: 'ec-p384', sealAfterExport: true },
    backup: { groupThreshold: 1, groups: [{ threshold: 2, custodians: ['c1', 'c2', 'c3'] }], iterationExponent: 1, passphrase: false },
    exports: [],
    steps: [{ id: 'room', text: 'The room is sealed.', ackBy: ['wes'] }],
  };
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'keyrite-plan-'));
writeFileSync(path.join(dir, 'wrap.pem'), 'not checked here');

function problems(mutate: (p: any) => void, opts: { outDir?: string } = {}) {
  const p = basePlan();
  mutate(p);
  return checkPlanObject(p, dir, opts).problems;
}

describe('plan rules (SPEC §2)', () => {
  it('accepts the base plan and fills defaults', () => {
    const r = checkPlanObject(basePlan(), dir);
    expect(r.problems).toEqual([]);
    expect(r.plan!.backup.extendable).toBe(true);
  });

  const cases: [string, (p: any) => void, string, RegExp][] = [
    ['unknown top-level key', (p) => (p.extra = 1), '(plan)', /unknown key 'extra'/],
    ['unknown nested key', (p) => (p.key.exportable = true), 'key', /unknown key 'exportable'/],
    ['bad version', (p) => (p.version = 2), 'version', /1/],
    ['bad id', (p) => (p.id = 'Bad_ID'), 'id', /must match/],
    ['missing title', (p) => delete p.title, 'title', /is required/],
    ['unknown algorithm', (p) => (p.key.algorithm = 'rsa-2048'), 'key.algorithm', /aes-256/],
    ['no administrator', (p) => (p.participants[0].role = 'witness'), 'participants', /exactly one administrator/],
    ['two administrators', (p) => (p.participants[1].role = 'administrator'), 'participants', /exactly one administrator \(found 2\)/],
    ['no witness', (p) => (p.participants[1].role = 'custodian'), 'participants', /at least one witness/],
    ['duplicate participant', (p) => (p.participants[4].id = 'c1'), 'participants[4].id', /duplicate participant id 'c1'/],
    ['unknown role', (p) => (p.participants[2].role = 'boss'), 'participants[2].role', /administrator/],
    ['custodian listed twice', (p) => (p.backup.groups[0].custodians = ['c1', 'c1', 'c2']), 'backup.groups[0].custodians[1]', /already listed/],
    ['custodian not a participant', (p) => (p.backup.groups[0].custodians[2] = 'zed'), 'backup.groups[0].custodians[2]', /not a participant/],
    ['witness as custodian', (p) => (p.backup.groups[0].custodians[2] = 'wes'), 'backup.groups[0].custodians[2]', /witness, not a custodian/],
    ['threshold above count', (p) => (p.backup.groups[0].threshold = 4), 'backup.groups[0].threshold', /has 3 custodian/],
    ['threshold 1 of many', (p) => (p.backup.groups[0].threshold = 1), 'backup.groups[0].threshold', /may not be 1/],
    ['threshold 0', (p) => (p.backup.groups[0].threshold = 0), 'backup.groups[0].threshold', />=1|too small/i],
    ['group threshold above groups', (p) => (p.backup.groupThreshold = 2), 'backup.groupThreshold', /1 group/],
    ['too many groups', (p) => (p.backup.groups = Array.from({ length: 17 }, () => ({ threshold: 1, custodians: ['c1'] }))), 'backup.groups', /16/],
    ['empty group', (p) => (p.backup.groups[0].custodians = []), 'backup.groups[0].custodians', /at least one custodian/],
    ['iteration exponent too big', (p) => (p.backup.iterationExponent = 16), 'backup.iterationExponent', /15/],
    ['no token selector', (p) => (p.hsm = { module: '/x.so' }), 'hsm', /tokenLabel or tokenSerial/],
    ['unknown export kind', (p) => (p.exports = [{ name: 'x-1', kind: 'oci-kms', wrappingKey: 'wrap.pem' }]), 'exports[0].kind', /aws-kms/],
    ['missing wrapping key file', (p) => (p.exports = [{ name: 'gcp-1', kind: 'gcp-kms', wrappingKey: 'missing.pem', algorithm: 'RSA_OAEP_3072_SHA1_AES_256' }]), 'exports[0].wrappingKey', /missing.pem does not exist/],
    ['missing AWS import token', (p) => (p.exports = [{ name: 'aws-1', kind: 'aws-kms', wrappingKey: 'wrap.pem', algorithm: 'RSA_AES_KEY_WRAP_SHA_1' }]), 'exports[0].importToken', /is required/],
    ['duplicate export name', (p) => (p.exports = [0, 1].map(() => ({ name: 'v-1', kind: 'vault-transit', wrappingKey: 'wrap.pem', hashFunction: 'SHA1', type: 'ecdsa-p384' }))), 'exports[1].name', /duplicate export name/],
    ['step acked by stranger', (p) => (p.steps[0].ackBy = ['zed']), 'steps[0].ackBy[0]', /not a participant/],
    ['duplicate step', (p) => p.steps.push({ ...p.steps[0] }), 'steps[1].id', /duplicate step id/],
    ['PIN in the plan', (p) => (p.hsm.pin = '1234'), 'hsm', /unknown key 'pin'/],
  ];
  for (const [name, mutate, where, msg] of cases) {
    it(`refuses: ${name}`, () => {
      const ps = problems(mutate);
      const hit = ps.find((x) => x.path === where);
      expect(hit, JSON.stringify(ps)).toBeDefined();
      expect(hit!.message).toMatch(msg);
    });
  }

  it('reports every problem at once', () => {
    const ps = problems((p) => {
      p.id = 'X';
      p.backup.groups[0].threshold = 9;
      p.participants[1].role = 'custodian';
    });
    expect(ps.map((x) => x.path)).toEqual(expect.arrayContaining(['id']));
    const ps2 = problems((p) => {
      p.backup.groups[0].threshold = 9;
      p.participants[1].role = 'custodian';
    });
    expect(ps2.length).toBeGreaterThanOrEqual(2);
  });

  it('refuses an output folder that exists', () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'keyrite-out-'));
    mkdirSync(path.join(out, 'acme-root-2026'));
    const ps = problems(() => {}, { outDir: out });
    expect(ps).toEqual([{ path: 'id', message: expect.stringMatching(/already exists/) }]);
  });

  it('loadPlan keeps the bytes exactly and names the file in errors', () => {
    const f = path.join(dir, 'plan.json');
    const text = JSON.stringify(basePlan(), null, 3) + '\n\n';
    writeFileSync(f, text);
    const lp = loadPlan(f);
    expect(lp.bytes.toString()).toBe(text);
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...basePlan(), id: 'no' }));
    expect(() => loadPlan(bad)).toThrow(PlanError);
    expect(() => loadPlan(bad)).toThrow(/bad.json: id: must match/);
    writeFileSync(bad, '{\n  "version": 1,\n  "id": \n}');
    expect(() => loadPlan(bad)).toThrow(/bad.json: malformed JSON at line 4/);
    expect(() => loadPlan(path.join(dir, 'nope.json'))).toThrow(/nope.json: no such file/);
  });
});
