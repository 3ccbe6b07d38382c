/** The RS1024 checksum of SLIP-39: a Reed-Solomon code over GF(1024), three 10-bit words. */

const GEN = [
  0xe0e040, 0x1c1c080, 0x3838100, 0x7070200, 0xe0e0009, 0x1c0c2412, 0x38086c24, 0x3090fc48, 0x21b1f890, 0x3f3f120,
];

export const CUSTOMIZATION = { standard: 'shamir', extendable: 'shamir_extendable' } as const;

export function customizationString(extendable: boolean): string {
  return extendable ? CUSTOMIZATION.extendable : CUSTOMIZATION.standard;
}

function polymod(values: Iterable<number>): number {
  let chk = 1;
  for (const v of values) {
    const b = chk >>> 20;
    chk = ((chk & 0xfffff) << 10) ^ v;
    for (let i = 0; i < 10; i++) if ((b >>> i) & 1) chk ^= GEN[i];
  }
  return chk;
}

function withPrefix(cs: string, data: number[]): number[] {
  return [...Array.from(cs, (c) => c.charCodeAt(0)), ...data];
}

/** The three checksum words for `data` (all words before the checksum). */
export function rs1024Create(data: number[], extendable: boolean): number[] {
  const pm = polymod([...withPrefix(customizationString(extendable), data), 0, 0, 0]) ^ 1;
  return [2, 1, 0].map((k) => (pm >>> (10 * k)) & 1023);
}

/** Whether `words` (data followed by its three checksum words) verifies. */
export function rs1024Verify(words: number[], extendable: boolean): boolean {
  return polymod(withPrefix(customizationString(extendable), words)) === 1;
}

/** The checksum's remainder over `words` (1 exactly when they verify). */
export function rs1024Residue(words: number[], extendable: boolean): number {
  return polymod(withPrefix(customizationString(extendable), words));
}

/**
 * How a difference `delta` in one word shows in the remainder `steps` words later. The remainder is
 * linear over GF(2) in each word, so changing word i by XOR d changes it by rs1024Shift(d, n-1-i)
 * (used to locate a mistyped word without re-running the checksum 1024 times per position).
 */
export function rs1024Shift(delta: number, steps: number): number {
  let chk = delta;
  for (let s = 0; s < steps; s++) {
    const b = chk >>> 20;
    chk = (chk & 0xfffff) << 10;
    for (let i = 0; i < 10; i++) if ((b >>> i) & 1) chk ^= GEN[i];
  }
  return chk;
}
