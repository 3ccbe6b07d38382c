/**
 * Every single-byte change to a valid bundle's transcript.jsonl is caught, and the rejection names the
 * check that failed. The fixture is built once; each change is made in place and undone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, it } from 'vitest';
import { makeSoftwareBundle } from '../helpers/bundle-fixture.ts';
import { expectEveryByteFlipRejected } from '../helpers/byte-flip.ts';

const tmp = mkdtempSync(path.join(tmpdir(), 'keyrite-flip-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

it('rejects every single-byte change to transcript.jsonl', () => {
  const b = makeSoftwareBundle(path.join(tmp, 'bundle'), { shares: 2, rootAlgorithm: 'aes-256' }); // an AES root: one signature, so each verify stays cheap
  expectEveryByteFlipRejected(b.dir, 'transcript.jsonl');
});
