/**
 * The lineage behind a bundle, walked back through its links (docs/lifecycle.md). A key's bundles
 * sit side by side in one folder, each named by its ceremony id, so the bundle a link names is
 * `<folder of the linking bundle>/<ceremonyId>`; it must have the linked statement digest and verify.
 * Plain Node: verify and the transcript reader only.
 */
import path from 'node:path';
import { verifyBundle } from '../verify/index.ts';
import { readBundleFacts, statementDigest, type BundleFacts } from './facts.ts';

/** The lineage behind a bundle: it, then the bundle each link names, while each is present, matches its digest and verifies. */
export function walkBack(first: BundleFacts): { lineage: BundleFacts[]; stoppedAt?: string } {
  const lineage = [first];
  let cur = first;
  while (cur.previous) {
    const dir = path.join(path.dirname(cur.dir), cur.previous.ceremonyId);
    const facts = readBundleFacts(dir);
    if (!facts || statementDigest(dir) !== cur.previous.statementSha256 || !verifyBundle(dir).valid)
      return { lineage, stoppedAt: `${dir} (ceremony ${cur.previous.ceremonyId}, statement ${cur.previous.statementSha256}) is missing, different or does not verify` };
    lineage.push(facts);
    cur = facts;
  }
  return { lineage };
}
