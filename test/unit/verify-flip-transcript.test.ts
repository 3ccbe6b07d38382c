/**
 * Every single-byte change to a valid bundle's transcript.jsonl is caught, and the rejection names the
 * check that failed. The fixture is built once; each change is made in place and undone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { verifyBundle } from '../../electron/core/transcript/verify.ts';
import { forEachByteFlip, makeSoftwareBundle } from '../helpers/bundle-fixture.ts';

const tmp = mkdtempSync(path.join(tmpdir(), 'keyrite-flip-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

it('rejects every single-byte change to transcript.jsonl', () => {
  const b = makeSoftwareBundle(path.join(tmp, 'bundle'), { shares: 2, rootAlgorithm: 'aes-256' }); // an AES root: one signature, so each verify stays cheap
  expect(verifyBundle(b.dir).valid).toBe(true);
  const results = forEachByteFlip(path.join(b.dir, 'transcript.jsonl'), (offset) => {
    const r = verifyBundle(b.dir);
    return { offset, valid: r.valid, firstFailed: r.checks.find((c) => !c.ok)?.name };
  });
  expect(results.length).toBeGreaterThan(3000);
  expect(results.filter((r) => r.valid || r.firstFailed === undefined)).toEqual([]);
  // The checks that caught them, for the record (at least the file's own digest and format checks).
  const caughtBy = new Set(results.map((r) => r.firstFailed));
  expect(caughtBy.size).toBeGreaterThan(1);
  expect(verifyBundle(b.dir).valid).toBe(true);
});
