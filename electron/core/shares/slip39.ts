/** SLIP-0039 split and combine over the pieces in this folder. */
import { randomInt } from 'node:crypto';
import { UsageError } from '../errors.ts';
import { encryptMasterSecret, isValidPassphrase } from './cipher.ts';
import { encodeShare } from './codec.ts';
import { ShareCollector } from './collector.ts';
import { shamirSplit } from './shamir.ts';

export interface SplitOptions {
  groupThreshold: number;
  groups: { threshold: number; count: number }[];
  passphrase?: string;
  /** 0..15; PBKDF2 runs 10000·2^e iterations in all. Default 1. */
  iterationExponent?: number;
  /** Default true (SLIP-39 extendable backup: more shares of the same set can be made later). */
  extendable?: boolean;
  /** 15-bit set identifier; random when omitted. */
  identifier?: number;
}

export interface SplitResult {
  identifier: number;
  extendable: boolean;
  iterationExponent: number;
  groupThreshold: number;
  groups: { threshold: number; count: number; mnemonics: string[] }[];
}

const isInt = (n: unknown, lo: number, hi: number): n is number => Number.isInteger(n) && (n as number) >= lo && (n as number) <= hi;

function validate(secret: Uint8Array, o: SplitOptions): void {
  if (secret.length < 16 || secret.length % 2 !== 0) {
    throw new UsageError(`the secret must be at least 16 bytes and an even number of bytes (got ${secret.length})`);
  }
  if (!isInt(o.groups.length, 1, 16)) throw new UsageError(`there must be 1 to 16 groups (got ${o.groups.length})`);
  if (!isInt(o.groupThreshold, 1, o.groups.length)) {
    throw new UsageError(`group threshold must be 1 to ${o.groups.length} (got ${o.groupThreshold})`);
  }
  o.groups.forEach((g, i) => {
    if (!isInt(g.count, 1, 16)) throw new UsageError(`group ${i + 1}: count must be 1 to 16 (got ${g.count})`);
    if (!isInt(g.threshold, 1, g.count)) throw new UsageError(`group ${i + 1}: threshold must be 1 to ${g.count} (got ${g.threshold})`);
    if (g.threshold === 1 && g.count > 1) {
      throw new UsageError(`group ${i + 1}: threshold 1 with ${g.count} shares is not allowed by SLIP-39 (use 1 of 1)`);
    }
  });
  if (o.iterationExponent !== undefined && !isInt(o.iterationExponent, 0, 15)) {
    throw new UsageError(`iteration exponent must be 0 to 15 (got ${o.iterationExponent})`);
  }
  if (o.identifier !== undefined && !isInt(o.identifier, 0, 0x7fff)) {
    throw new UsageError(`identifier must be 0 to 32767 (got ${o.identifier})`);
  }
  if (!isValidPassphrase(o.passphrase ?? '')) throw new UsageError('the passphrase must be printable ASCII (SLIP-39)');
}

/** Splits a master secret into SLIP-39 mnemonics, group by group. */
export function splitSecret(secret: Uint8Array, opts: SplitOptions): SplitResult {
  validate(secret, opts);
  const identifier = opts.identifier ?? randomInt(0, 0x8000);
  const extendable = opts.extendable ?? true;
  const iterationExponent = opts.iterationExponent ?? 1;
  const { groupThreshold } = opts;
  const groupCount = opts.groups.length;

  const ems = encryptMasterSecret(secret, opts.passphrase ?? '', iterationExponent, identifier, extendable);
  const groupShares = shamirSplit(groupThreshold, groupCount, ems);
  ems.fill(0);
  const groups = opts.groups.map((g, groupIndex) => {
    const members = shamirSplit(g.threshold, g.count, groupShares[groupIndex].value);
    const mnemonics = members.map((m) => {
      const text = encodeShare(
        { identifier, extendable, iterationExponent, groupIndex, groupThreshold, groupCount, memberIndex: m.x, memberThreshold: g.threshold },
        m.value,
      );
      m.value.fill(0);
      return text;
    });
    return { threshold: g.threshold, count: g.count, mnemonics };
  });
  for (const s of groupShares) s.value.fill(0);
  return { identifier, extendable, iterationExponent, groupThreshold, groups };
}

/**
 * Recovers the master secret. Every share given is checked (words, checksum, same set, no duplicates,
 * consistent thresholds), so a stray or damaged sheet in the pile is named; the secret is then made from
 * exactly the threshold of each group and the group threshold of groups, the first to complete in input
 * order. Throws Slip39Error naming the offending share ("share 2: ...") by its 1-based input position.
 */
export function combineMnemonics(mnemonics: string[], passphrase = ''): Uint8Array {
  const collector = new ShareCollector();
  try {
    for (let i = 0; i < mnemonics.length; i++) collector.add(mnemonics[i], i + 1);
    return collector.secret(passphrase);
  } finally {
    collector.wipe();
  }
}
