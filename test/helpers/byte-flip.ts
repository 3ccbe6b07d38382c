/** Byte-flip tampering tests, kept apart from bundle-fixture.ts so benchmarks can use the fixture without vitest. */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { verifyBundle } from '../../electron/core/verify/index.ts';

/**
 * Changes every byte of one bundle file in turn (in place, XOR with a mask that cycles through
 * 0x01, 0x20 and 0x80: a low bit, letter case, a high bit that breaks UTF-8), runs `check` on each
 * variant and restores the byte. Returns what `check` returned per offset.
 */
export function forEachByteFlip<T>(file: string, check: (offset: number) => T): T[] {
  const original = readFileSync(file);
  const masks = [0x01, 0x20, 0x80];
  const out: T[] = [];
  const fd = openSync(file, 'r+');
  try {
    for (let i = 0; i < original.length; i++) {
      writeSync(fd, Buffer.from([original[i] ^ masks[i % masks.length]]), 0, 1, i);
      try {
        out.push(check(i));
      } finally {
        writeSync(fd, original, i, 1, i);
      }
    }
  } finally {
    closeSync(fd);
  }
  if (!readFileSync(file).equals(original)) throw new Error(`${file} was not restored`);
  return out;
}

/**
 * Changes every byte of one bundle file in turn (undoing each) and asserts that verify rejects every
 * change, naming the check that failed, and that more than one check takes part in catching them.
 */
export function expectEveryByteFlipRejected(bundleDir: string, file: string): void {
  expect(verifyBundle(bundleDir).valid).toBe(true);
  const results = forEachByteFlip(path.join(bundleDir, file), (offset) => {
    const r = verifyBundle(bundleDir);
    return { offset, valid: r.valid, firstFailed: r.checks.find((c) => !c.ok)?.name };
  });
  expect(results.length).toBeGreaterThan(3000);
  expect(results.filter((r) => r.valid || r.firstFailed === undefined)).toEqual([]);
  expect(new Set(results.map((r) => r.firstFailed)).size).toBeGreaterThan(1);
  expect(verifyBundle(bundleDir).valid).toBe(true);
}
