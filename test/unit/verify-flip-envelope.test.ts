/**
 * Every single-byte change to a valid bundle's transcript.dsse.json is caught, and the rejection names the
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

it('rejects every single-byte change to transcript.dsse.json', () => {
  const b = makeSoftwareBundle(path.join(tmp, 'bundle'), { shares: 2 });
  expectEveryByteFlipRejected(b.dir, 'transcript.dsse.json');
});
