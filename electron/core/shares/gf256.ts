/**
 * Shamir's secret sharing over GF(256) with the Rijndael polynomial x^8+x^4+x^3+x+1, as SLIP-39
 * defines it: Lagrange interpolation of byte strings at a given x through the points given.
 */

const EXP = new Uint8Array(255);
const LOG = new Uint8Array(256);
{
  let poly = 1;
  for (let i = 0; i < 255; i++) {
    EXP[i] = poly;
    LOG[poly] = i;
    // multiply by the generator x+1
    poly = (poly << 1) ^ poly;
    if (poly & 0x100) poly ^= 0x11b;
  }
}

export interface Point {
  x: number;
  value: Uint8Array;
}

/** f(x) for the polynomial through `points` (distinct x, equal value lengths). */
export function interpolate(points: readonly Point[], x: number): Uint8Array {
  const xs = new Set(points.map((p) => p.x));
  if (xs.size !== points.length) throw new Error('interpolate: x coordinates are not distinct');
  const len = points[0].value.length;
  if (points.some((p) => p.value.length !== len)) throw new Error('interpolate: values differ in length');
  const hit = points.find((p) => p.x === x);
  if (hit) return Uint8Array.from(hit.value);

  let logProd = 0;
  for (const p of points) logProd += LOG[p.x ^ x];
  const result = new Uint8Array(len);
  for (const p of points) {
    let logBasis = logProd - LOG[p.x ^ x];
    for (const q of points) if (q !== p) logBasis -= LOG[p.x ^ q.x];
    logBasis = ((logBasis % 255) + 255) % 255;
    for (let k = 0; k < len; k++) {
      const v = p.value[k];
      if (v !== 0) result[k] ^= EXP[(LOG[v] + logBasis) % 255];
    }
  }
  return result;
}
