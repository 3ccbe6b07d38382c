/**
 * Bad input of every kind (property tests, fast-check): the share parser, the plan parser and the
 * bundle verifier over random and mutated inputs never crash or hang, and every refusal is a
 * KeyriteError whose message is one line with the documented exit code (docs/commands.md): shares that
 * cannot be used exit 1; a plan that cannot be read or breaks the schema exits 2; a damaged
 * bundle is a failed check (exit 1), never an exception.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { isDeepStrictEqual } from 'node:util';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPlanObject, loadPlan, readPlanFile } from '../../electron/core/ceremony/plan.ts';
import { KeyriteError } from '../../electron/core/errors.ts';
import { allWords, decodeMnemonic, ShareCollector, splitSecret } from '../../electron/core/shares/index.ts';
import { verifyBundle } from '../../electron/core/verify/index.ts';
import { makeSoftwareBundle } from '../helpers/bundle-fixture.ts';

const RUNS = 300;
let work: string;
beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'keyrite-fuzz-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Runs fn; it may return, or throw a one-line KeyriteError with one of the exit codes; and it is quick. */
function refusesCleanly(fn: () => unknown, codes: (1 | 2)[], maxMs = 2000): void {
  const t0 = performance.now();
  try {
    fn();
  } catch (err) {
    if (!(err instanceof KeyriteError)) throw new Error(`not a KeyriteError: ${String((err as Error)?.stack ?? err)}`);
    expect(err.message).not.toMatch(/[\r\n]/);
    expect(err.message.length).toBeGreaterThan(0);
    expect(codes).toContain(err.exitCode);
  }
  expect(performance.now() - t0).toBeLessThan(maxMs);
}

const words = allWords();
const split = splitSecret(Buffer.alloc(32, 7), { groupThreshold: 1, groups: [{ threshold: 2, count: 3 }], iterationExponent: 0, extendable: true });
const valid = split.groups[0].mnemonics;

/** A valid mnemonic, mutated: word replaced, swapped, dropped, duplicated, truncated or garbled. */
const mutatedMnemonic = fc
  .tuple(fc.constantFrom(...valid), fc.array(fc.tuple(fc.nat(6), fc.nat(40), fc.nat(1023), fc.string({ maxLength: 12 })), { minLength: 1, maxLength: 4 }))
  .map(([m, edits]) => {
    const w = m.split(' ');
    for (const [op, i, k, s] of edits) {
      const at = i % Math.max(w.length, 1);
      if (op === 0) w[at] = words[k];
      else if (op === 1 && w.length > 1) [w[at], w[(at + 1) % w.length]] = [w[(at + 1) % w.length], w[at]];
      else if (op === 2) w.splice(at, 1);
      else if (op === 3) w.splice(at, 0, w[at] ?? words[k]);
      else if (op === 4) w.length = at;
      else if (op === 5) w[at] = s;
      else w[at] = (w[at] ?? '').toUpperCase();
    }
    return w.join(' ');
  });

describe('share parser', () => {
  it('decodeMnemonic: random text and random word sequences are refused with a one-line exit-1 error', () => {
    const randomWords = fc.array(fc.constantFrom(...words), { minLength: 0, maxLength: 40 }).map((a) => a.join(' '));
    fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 400 }), fc.string({ unit: 'grapheme', maxLength: 200 }), randomWords), (text) => refusesCleanly(() => decodeMnemonic(text, 3), [1])), { numRuns: RUNS });
  });

  it('decodeMnemonic: mutated valid shares are refused (or still valid), never a crash', () => {
    fc.assert(fc.property(mutatedMnemonic, (text) => refusesCleanly(() => decodeMnemonic(text, 1), [1])), { numRuns: RUNS });
  });

  it('ShareCollector: any mix of valid, mutated and foreign shares ends in a result or a one-line refusal', () => {
    const foreign = splitSecret(Buffer.alloc(16, 1), { groupThreshold: 1, groups: [{ threshold: 2, count: 2 }], iterationExponent: 0, extendable: false }).groups[0].mnemonics;
    const share = fc.oneof(fc.constantFrom(...valid), fc.constantFrom(...foreign), mutatedMnemonic, fc.string({ maxLength: 80 }));
    fc.assert(
      fc.property(fc.array(share, { minLength: 1, maxLength: 6 }), (list) => {
        const c = new ShareCollector();
        list.forEach((m, i) => refusesCleanly(() => c.add(m, i + 1), [1]));
      }),
      { numRuns: RUNS },
    );
  });
});

const basePlan = {
  version: 1,
  id: 'fuzz-plan',
  title: 'fuzz',
  participants: [
    { id: 'ada', name: 'Ada', role: 'administrator' },
    { id: 'wes', name: 'Wes', role: 'witness' },
    { id: 'c1', name: 'C1', role: 'custodian' },
    { id: 'c2', name: 'C2', role: 'custodian' },
  ],
  hsm: { module: '/usr/lib/softhsm/libsofthsm2.so', tokenLabel: 't' },
  key: { label: 'k', algorithm: 'ec-p384', sealAfterExport: true },
  backup: { groupThreshold: 1, groups: [{ threshold: 2, custodians: ['c1', 'c2'] }], iterationExponent: 1, passphrase: false },
  exports: [],
  steps: [{ id: 'room', text: 'sealed', ackBy: ['wes'] }],
};

/** The base plan with one value somewhere replaced by anything JSON can hold (or a key added/removed). */
const mutatedPlan = fc.tuple(fc.nat(1000), fc.jsonValue({ maxDepth: 2 }), fc.nat(2), fc.string({ maxLength: 8 })).map(([pick, value, op, key]) => {
  const plan = structuredClone(basePlan) as Record<string, unknown>;
  const slots: { obj: Record<string, unknown> | unknown[]; key: string | number }[] = [];
  const walk = (o: unknown) => {
    if (o && typeof o === 'object') for (const [k, v] of Object.entries(o)) {
      slots.push({ obj: o as Record<string, unknown>, key: Array.isArray(o) ? Number(k) : k });
      walk(v);
    }
  };
  walk(plan);
  const s = slots[pick % slots.length];
  const target = s.obj as Record<string | number, unknown>;
  if (op === 0) target[s.key] = value;
  else if (op === 1) delete target[s.key];
  else if (!Array.isArray(s.obj)) target[key || 'extra'] = value;
  return plan;
});

describe('plan parser', () => {
  it('checkPlanObject never throws on random or mutated JSON; every problem is a one-line path + message', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue({ maxDepth: 4 }), mutatedPlan), (raw) => {
        const r = checkPlanObject(raw, work);
        for (const p of r.problems) {
          expect(`${p.path}: ${p.message}`).not.toMatch(/[\r\n]/);
        }
        expect(r.plan !== undefined || r.problems.length > 0).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it('readPlanFile/loadPlan on random and mutated bytes: a plan, or a one-line exit-2 error naming the file', () => {
    const file = path.join(work, 'plan.json');
    const text = JSON.stringify(basePlan, null, 2);
    const mutatedBytes = fc.tuple(fc.nat(text.length), fc.nat(3), fc.string({ maxLength: 6 })).map(([at, op, s]) =>
      op === 0 ? text.slice(0, at) : op === 1 ? text.slice(0, at) + s + text.slice(at) : op === 2 ? text.slice(0, at) + text.slice(at + 1) : s + text,
    );
    fc.assert(
      fc.property(fc.oneof(mutatedBytes, fc.string({ maxLength: 200 }), mutatedPlan.map((p) => JSON.stringify(p))), (content) => {
        writeFileSync(file, content);
        refusesCleanly(() => readPlanFile(file), [2]);
        refusesCleanly(() => loadPlan(file), [2]);
        try {
          loadPlan(file);
        } catch (err) {
          expect((err as Error).message).toContain(`plan ${file}`);
        }
      }),
      { numRuns: RUNS },
    );
  });
});

/**
 * Whether a mutated file is one the statement does not sign (the envelope, a co-signature record) and
 * still parses to the same JSON value: its meaning is unchanged (signatures are over the payload,
 * not over the envelope's layout), so verify must give the pristine bundle's verdict.
 */
function sameJsonOutsideStatement(rel: string, original: Buffer, dir: string): boolean {
  if (rel !== 'transcript.dsse.json' && !rel.startsWith('cosignatures/')) return false;
  let now: unknown;
  try {
    now = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(readFileSync(path.join(dir, rel))));
  } catch {
    return false;
  }
  return isDeepStrictEqual(now, JSON.parse(original.toString('utf8')));
}

describe('bundle verifier', () => {
  let pristine: string;
  let files: string[];
  beforeAll(() => {
    pristine = path.join(work, 'pristine');
    makeSoftwareBundle(pristine, { ceremonyId: 'fuzz-bundle', rootAlgorithm: 'ec-p256', shares: 3 });
    files = [];
    const walk = (rel: string) => {
      for (const e of readdirSync(path.join(pristine, rel))) {
        const r = rel ? `${rel}/${e}` : e;
        if (statSync(path.join(pristine, r)).isDirectory()) walk(r);
        else files.push(r);
      }
    };
    walk('');
    expect(verifyBundle(pristine).valid).toBe(true);
  });

  it('verifyBundle on mutated bundles (flipped, inserted, truncated bytes; deleted files) never throws and never calls them valid', () => {
    let k = 0;
    fc.assert(
      fc.property(fc.nat(1000), fc.nat(3), fc.nat(1 << 20), fc.integer({ min: 1, max: 255 }), (fi, op, at, byte) => {
        const dir = path.join(work, `m${k++}`);
        cpSync(pristine, dir, { recursive: true });
        const rel = files[fi % files.length];
        const file = path.join(dir, rel);
        const data = readFileSync(file);
        const pos = data.length ? at % data.length : 0;
        if (op === 0 && data.length) {
          data[pos] ^= byte;
          writeFileSync(file, data);
        } else if (op === 1) writeFileSync(file, Buffer.concat([data.subarray(0, pos), Buffer.from([byte]), data.subarray(pos)]));
        else if (op === 2) truncateSync(file, pos);
        else unlinkSync(file);
        const t0 = performance.now();
        const r = verifyBundle(dir);
        expect(performance.now() - t0).toBeLessThan(2000);
        for (const c of r.checks) expect(c.detail).not.toMatch(/[\r\n]/);
        if (sameJsonOutsideStatement(rel, readFileSync(path.join(pristine, rel)), dir)) {
          // Whitespace in the envelope (a dropped final newline, a space turned into a tab or a
          // newline) changes no signed byte and nothing verify reads: the bundle means the same.
          expect(r.verdict).toBe(verifyBundle(pristine).verdict);
        } else {
          expect(r.valid).toBe(false);
          expect(r.verdict).toMatch(/^(INVALID|INCOMPLETE: .+)$/);
        }
        rmSync(dir, { recursive: true, force: true });
      }),
      { numRuns: 150 },
    );
  });
});
