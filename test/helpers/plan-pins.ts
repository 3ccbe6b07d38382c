/**
 * Plans built by tests carry the SHA-256 pins that docs/plan.md requires (`exports[].wrappingKeySha256`,
 * aws `importTokenSha256`), computed here from the files the test wrote into the plan's folder, so
 * that tests which build plans through the helpers keep working without spelling digests out. A pin
 * the test gives itself is kept (attack tests pin a wrong digest on purpose); a file that does not
 * exist yet gets no pin, and the plan then fails as it should.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export function sha256File(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function digestOf(dir: string, rel: unknown): string | undefined {
  if (typeof rel !== 'string' || path.isAbsolute(rel)) return undefined;
  const file = path.join(dir, rel);
  return existsSync(file) && statSync(file).isFile() ? sha256File(file) : undefined;
}

/** A pin for a file that is not there (tests of a missing file): no file has this digest in practice. */
export const NO_FILE_PIN = '0'.repeat(64);

/**
 * One export target with its pins filled in from the files under `dir`. With `missing`, a file that
 * is not there (or not a file) is pinned to that value, so that the plan reaches the file check.
 */
export function pinTarget<T>(dir: string, target: T, opts: { missing?: string } = {}): T {
  const t = { ...(target as Record<string, unknown>) };
  if (t.wrappingKeySha256 === undefined) {
    const d = digestOf(dir, t.wrappingKey) ?? opts.missing;
    if (d) t.wrappingKeySha256 = d;
  }
  if (t.kind === 'aws-kms' && t.importTokenSha256 === undefined) {
    const d = digestOf(dir, t.importToken) ?? opts.missing;
    if (d) t.importTokenSha256 = d;
  }
  return t as T;
}

/** Every export of a plan object, pinned (returns a new array). */
export function pinExports<T>(dir: string, exports: readonly T[] | undefined): T[] {
  return (exports ?? []).map((e) => pinTarget(dir, e));
}
