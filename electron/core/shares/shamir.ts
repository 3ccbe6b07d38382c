/**
 * SLIP-39's threshold sharing of one secret: the secret sits at x=255 and a digest share at x=254
 * (4 bytes of HMAC-SHA256(randomPart, secret) followed by randomPart), so a wrong combination is detected.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { interpolate, type Point } from './gf256.ts';

export const SECRET_INDEX = 255;
export const DIGEST_INDEX = 254;
const DIGEST_LENGTH = 4;

function digestOf(randomPart: Uint8Array, secret: Uint8Array): Uint8Array {
  return createHmac('sha256', randomPart).update(secret).digest().subarray(0, DIGEST_LENGTH);
}

/** Splits `secret` into `count` shares (x = 0..count-1), any `threshold` of which recover it. */
export function shamirSplit(threshold: number, count: number, secret: Uint8Array): Point[] {
  if (threshold < 1 || threshold > count || count > 16) throw new Error('shamirSplit: bad threshold or count');
  if (threshold === 1) return Array.from({ length: count }, (_, x) => ({ x, value: Uint8Array.from(secret) }));

  const randomCount = threshold - 2;
  const shares: Point[] = Array.from({ length: randomCount }, (_, x) => ({ x, value: new Uint8Array(randomBytes(secret.length)) }));
  const randomPart = new Uint8Array(randomBytes(secret.length - DIGEST_LENGTH));
  const digestShare = new Uint8Array(secret.length);
  digestShare.set(digestOf(randomPart, secret), 0);
  digestShare.set(randomPart, DIGEST_LENGTH);
  const base: Point[] = [...shares, { x: DIGEST_INDEX, value: digestShare }, { x: SECRET_INDEX, value: secret }];
  for (let x = randomCount; x < count; x++) shares.push({ x, value: interpolate(base, x) });
  digestShare.fill(0);
  randomPart.fill(0);
  return shares;
}

/** Recovers the secret from exactly `threshold` shares; returns undefined when the digest does not match. */
export function shamirRecover(threshold: number, shares: readonly Point[]): Uint8Array | undefined {
  if (threshold === 1) return Uint8Array.from(shares[0].value);
  const secret = interpolate(shares, SECRET_INDEX);
  const digestShare = interpolate(shares, DIGEST_INDEX);
  const ok = timingSafeEqual(digestShare.subarray(0, DIGEST_LENGTH), digestOf(digestShare.subarray(DIGEST_LENGTH), secret));
  digestShare.fill(0);
  if (!ok) {
    secret.fill(0);
    return undefined;
  }
  return secret;
}
