/** Word entry, check values, the incremental collector and split-parameter checks. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../electron/core/errors.ts';
import {
  combineMnemonics,
  decodeMnemonic,
  normalizeMnemonic,
  shareCheckValue,
  ShareCollector,
  Slip39Error,
  splitSecret,
} from '../../electron/core/shares/index.ts';

const secret = new Uint8Array(32).map((_, i) => i * 7 + 1);
// 2 of 3 groups: group 1 is 2-of-3, group 2 is 1-of-1, group 3 is 3-of-5
const set = splitSecret(secret, {
  groupThreshold: 2,
  groups: [{ threshold: 2, count: 3 }, { threshold: 1, count: 1 }, { threshold: 3, count: 5 }],
  iterationExponent: 0,
  identifier: 1234,
});
const [g1, g2, g3] = set.groups.map((g) => g.mnemonics);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const thrown = (f: () => unknown): Error => {
  try {
    f();
  } catch (err) {
    return err as Error;
  }
  throw new Error('did not throw');
};

describe('splitSecret', () => {
  it('uses SPEC defaults: extendable, iteration exponent 1, 33 words for 256 bits, random 15-bit identifier', () => {
    const s = splitSecret(secret, { groupThreshold: 1, groups: [{ threshold: 2, count: 3 }] });
    expect(s.extendable).toBe(true);
    expect(s.iterationExponent).toBe(1);
    expect(s.identifier).toBeGreaterThanOrEqual(0);
    expect(s.identifier).toBeLessThan(32768);
    expect(s.groups[0].mnemonics).toHaveLength(3);
    for (const m of s.groups[0].mnemonics) expect(m.split(' ')).toHaveLength(33);
    const info = decodeMnemonic(s.groups[0].mnemonics[1]);
    expect(info).toMatchObject({ identifier: s.identifier, extendable: true, iterationExponent: 1, groupIndex: 0, group: 1, memberIndex: 1, member: 2, memberThreshold: 2, groupThreshold: 1, groupCount: 1 });
  });

  it('refuses layouts SLIP-39 forbids, as usage errors', () => {
    const bad = [
      { groupThreshold: 1, groups: [{ threshold: 1, count: 3 }] },
      { groupThreshold: 2, groups: [{ threshold: 2, count: 3 }] },
      { groupThreshold: 1, groups: [{ threshold: 2, count: 17 }] },
      { groupThreshold: 1, groups: [] },
    ];
    for (const opts of bad) expect(() => splitSecret(secret, opts)).toThrowError(UsageError);
    expect(() => splitSecret(secret.subarray(0, 15), { groupThreshold: 1, groups: [{ threshold: 1, count: 1 }] })).toThrowError(/at least 16 bytes/);
    expect(() => splitSecret(secret, { groupThreshold: 1, groups: [{ threshold: 1, count: 1 }], passphrase: 'pässword' })).toThrowError(/printable ASCII/);
  });

  it('non-extendable sets depend on the identifier; the passphrase changes the secret silently (SLIP-39)', () => {
    const s = splitSecret(secret, { groupThreshold: 1, groups: [{ threshold: 1, count: 1 }], extendable: false, passphrase: 'pw', iterationExponent: 0 });
    expect(s.extendable).toBe(false);
    expect(hex(combineMnemonics(s.groups[0].mnemonics, 'pw'))).toBe(hex(secret));
    expect(hex(combineMnemonics(s.groups[0].mnemonics, 'other'))).not.toBe(hex(secret));
  });
});

describe('word entry', () => {
  it('accepts any case, any whitespace and 4-letter prefixes', () => {
    const m = g2[0];
    const messy = '  ' + m.split(' ').map((w, i) => (i % 2 ? w.slice(0, 4).toUpperCase() : w)).join(' \t\n ') + '\n';
    expect(normalizeMnemonic(messy)).toBe(m);
    expect(hex(combineMnemonics([g1[0], messy, g1[2]]))).toBe(hex(secret));
  });

  it('names an unknown word and its position, and the share', () => {
    const words = g1[1].split(' ');
    words[6] = 'foo';
    expect(thrown(() => combineMnemonics([g1[0], words.join(' ')])).message).toBe('share 2: unknown word at position 7 (not in the SLIP-39 word list)');
    words[6] = 'acad'; // a prefix of 'academic' is fine, but 'acadx' is not
    expect(() => normalizeMnemonic(words.join(' '))).not.toThrow();
    words[6] = 'acadx';
    expect(() => normalizeMnemonic(words.join(' '))).toThrowError('unknown word at position 7 (not in the SLIP-39 word list)');
  });

  it('detects a swapped pair of words by the checksum, without echoing words', () => {
    const words = g1[0].split(' ');
    [words[10], words[11]] = [words[11], words[10]];
    const err = thrown(() => combineMnemonics([g1[1], words.join(' ')]));
    expect(err).toBeInstanceOf(Slip39Error);
    expect(err.message).toBe('share 2: checksum does not match (a word is wrong or two are swapped)');
  });
});

describe('shareCheckValue', () => {
  it('is SHA-256 over the SPEC prefix and the lowercase single-spaced mnemonic, 8 bytes hex', () => {
    const m = g3[4];
    const want = createHash('sha256').update(`keyrite share check v1\n${m}`).digest('hex').slice(0, 16);
    expect(shareCheckValue(m)).toBe(want);
    expect(shareCheckValue(m.toUpperCase().replace(/ /g, '   '))).toBe(want);
    expect(decodeMnemonic(m).checkValue).toBe(want);
  });
});

describe('ShareCollector', () => {
  it('reports progress and completes at the thresholds, ignoring extras', () => {
    const c = new ShareCollector({ identifier: 1234 });
    expect(c.needs()).toBe('no shares yet');
    let r = c.add(g3[2]);
    expect(r).toMatchObject({ complete: false, used: true, needs: 'group 3 needs 2 more shares; 1 more group needed' });
    expect(r.accepted).toMatchObject({ group: 3, member: 3 });
    r = c.add(g1[0]);
    expect(r.needs).toBe('group 1 needs 1 more share; group 3 needs 2 more shares');
    r = c.add(g1[2]);
    expect(r.needs).toBe('group 3 needs 2 more shares');
    r = c.add(g1[1]);
    expect(r).toMatchObject({ used: false, complete: false });
    r = c.add(g2[0]);
    expect(r).toMatchObject({ used: true, complete: true, needs: '' });
    r = c.add(g3[0]);
    expect(r).toMatchObject({ used: false, complete: true });
    expect(hex(c.secret())).toBe(hex(secret));
  });

  it('refuses duplicates, foreign sets and shares missing from the transcript, naming the share', () => {
    const c = new ShareCollector({ identifier: 1234, allowedCheckValues: new Set([...g1, ...g3].map(shareCheckValue)) });
    c.add(g1[0]);
    expect(thrown(() => c.add(g1[0])).message).toBe('share 2: duplicate of share 1');
    expect(thrown(() => c.add(g2[0])).message).toMatch(/^share 2: not one of the expected shares \(check value [0-9a-f]{16} is not in the transcript\)$/);

    const other = splitSecret(secret, { groupThreshold: 1, groups: [{ threshold: 2, count: 2 }], identifier: 5678, iterationExponent: 0 });
    const d = new ShareCollector({ identifier: 1234 });
    expect(thrown(() => d.add(other.groups[0].mnemonics[0])).message).toBe(
      'share 1: belongs to a different share set (identifier 5678, expected 1234)',
    );
    const e = new ShareCollector();
    e.add(g1[0]);
    expect(thrown(() => e.add(other.groups[0].mnemonics[0], 4)).message).toBe(
      'share 4: belongs to a different share set (identifier 5678, expected 1234)',
    );
    expect(thrown(() => e.secret()).message).toBe('not enough shares: group 1 needs 1 more share; 1 more group needed');
  });

  it('refuses an altered share whose checksum was recomputed (digest check)', () => {
    // Same identifier and layout but a different secret: the shares decode, yet do not fit together.
    const twin = splitSecret(new Uint8Array(32).fill(9), {
      groupThreshold: 2,
      groups: [{ threshold: 2, count: 3 }, { threshold: 1, count: 1 }, { threshold: 3, count: 5 }],
      iterationExponent: 0,
      identifier: 1234,
    });
    const err = thrown(() => combineMnemonics([g1[0], twin.groups[0].mnemonics[1], g2[0]]));
    expect(err.message).toMatch(/^shares 1 and 2 \(group 1\) do not fit together/);
  });
});
