/**
 * Every single-byte change to the transcript or the envelope of a valid bundle is caught. The
 * fixture is built once; each flip is written in place, verified, and the byte restored.
 */
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyBundle } from '../../electron/core/transcript/verify.ts';
import { makeSoftwareBundle, type SoftwareBundle } from '../helpers/bundle-fixture.ts';

const tmp = mkdtempSync(path.join(tmpdir(), 'keyrite-flip-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let b: SoftwareBundle;
beforeAll(() => {
  b = makeSoftwareBundle(path.join(tmp, 'bundle'), { shares: 2 });
  expect(verifyBundle(b.dir).valid).toBe(true);
});

/** Flips each byte with `mask`, verifies, restores; returns offsets that were not rejected and the failed checks seen. */
function flipAll(rel: string, mask: number): { missed: number[]; seen: Map<string, number>; total: number } {
  const file = path.join(b.dir, rel);
  const original = readFileSync(file);
  const seen = new Map<string, number>();
  const missed: number[] = [];
  const fd = openSync(file, 'r+');
  try {
    for (let i = 0; i < original.length; i++) {
      writeSync(fd, Buffer.from([original[i] ^ mask]), 0, 1, i);
      const r = verifyBundle(b.dir);
      const bad = r.checks.filter((c) => !c.ok);
      if (r.valid || bad.length === 0) missed.push(i);
      const first = bad[0]?.name ?? 'none';
      seen.set(first, (seen.get(first) ?? 0) + 1);
      writeSync(fd, original, i, 1, i);
    }
  } finally {
    closeSync(fd);
  }
  expect(readFileSync(file).equals(original)).toBe(true);
  return { missed, seen, total: original.length };
}

describe('single-byte tampering', () => {
  for (const rel of ['transcript.jsonl', 'transcript.dsse.json']) {
    for (const mask of [0x01, 0x80]) {
      it(`rejects every byte of ${rel} flipped with 0x${mask.toString(16).padStart(2, '0')}`, () => {
        const { missed, seen, total } = flipAll(rel, mask);
        expect(total).toBeGreaterThan(1000);
        expect(missed).toEqual([]);
        // Each rejection names the check that failed first.
        expect([...seen.keys()].every((k) => k !== 'none')).toBe(true);
      });
    }
  }
});
