/**
 * One SLIP-39 share <-> its mnemonic. Layout, 10 bits a word:
 * id(15) ext(1) e(4) | groupIndex(4) groupThreshold-1(4) groupCount-1(4) memberIndex(4) memberThreshold-1(4)
 * | value, left-padded with zero bits to whole words | RS1024 checksum (3 words).
 */
import { checkValueOfNormalized } from './check-value.ts';
import { Slip39Error, sharePrefix } from './errors.ts';
import { locateWrongWord } from './locate-error.ts';
import { rs1024Create, rs1024Verify } from './rs1024.ts';
import { mnemonicToIndices, wordAt } from './wordlist.ts';

const RADIX_BITS = 10;
const METADATA_WORDS = 7; // 2 (id, ext, e) + 2 (group/member params) + 3 (checksum)
export const MIN_MNEMONIC_WORDS = 20; // 128-bit secret

export interface ShareParams {
  identifier: number;
  extendable: boolean;
  iterationExponent: number;
  /** 0-based */
  groupIndex: number;
  groupThreshold: number;
  groupCount: number;
  /** 0-based */
  memberIndex: number;
  memberThreshold: number;
}

export interface ShareInfo extends ShareParams {
  /** 1-based group number, for display */
  group: number;
  /** 1-based member number within the group, for display */
  member: number;
  /** Number of words in the mnemonic (20 for 128-bit, 33 for 256-bit secrets). */
  wordCount: number;
  /** SPEC §3 check value of the share (public). */
  checkValue: string;
  /** The share's value (secret material: wipe it when done). */
  value: Uint8Array;
}

const groupsWord = (n: number) => `${n} group${n === 1 ? '' : 's'}`;

function bytesToBigInt(b: Uint8Array): bigint {
  let n = 0n;
  for (const x of b) n = (n << 8n) | BigInt(x);
  return n;
}

export function encodeShare(p: ShareParams, value: Uint8Array): string {
  const idExt = (p.identifier << 5) | ((p.extendable ? 1 : 0) << 4) | p.iterationExponent;
  const params =
    (p.groupIndex << 16) | ((p.groupThreshold - 1) << 12) | ((p.groupCount - 1) << 8) | (p.memberIndex << 4) | (p.memberThreshold - 1);
  const valueWords = Math.ceil((value.length * 8) / RADIX_BITS);
  const v = bytesToBigInt(value);
  const words = [idExt >> 10, idExt & 1023, params >> 10, params & 1023];
  for (let k = valueWords - 1; k >= 0; k--) words.push(Number((v >> BigInt(k * RADIX_BITS)) & 1023n));
  words.push(...rs1024Create(words, p.extendable));
  return words.map(wordAt).join(' ');
}

/** Parses and checks one mnemonic; `position` (1-based) names it in error messages. */
export function decodeMnemonic(text: string, position?: number): ShareInfo {
  const at = sharePrefix(position);
  const words = mnemonicToIndices(text, position);
  if (words.length < MIN_MNEMONIC_WORDS) {
    throw new Slip39Error(`${at}too short (${words.length} words; a share has at least ${MIN_MNEMONIC_WORDS})`);
  }
  const paddingBits = (RADIX_BITS * (words.length - METADATA_WORDS)) % 16;
  if (paddingBits > 8) throw new Slip39Error(`${at}invalid length (${words.length} words)`);

  const idExt = (words[0] << 10) | words[1];
  const extendable = ((idExt >> 4) & 1) === 1;
  if (!rs1024Verify(words, extendable)) {
    // One wrong word is located (its position only; the word itself is never named).
    const wrong = locateWrongWord(words);
    throw new Slip39Error(`${at}checksum does not match (${wrong.length === 1 ? `word ${wrong[0]} looks wrong` : 'a word is wrong or two are swapped'})`);
  }
  const params = (words[2] << 10) | words[3];
  const info = {
    identifier: idExt >> 5,
    extendable,
    iterationExponent: idExt & 15,
    groupIndex: params >> 16,
    groupThreshold: ((params >> 12) & 15) + 1,
    groupCount: ((params >> 8) & 15) + 1,
    memberIndex: (params >> 4) & 15,
    memberThreshold: (params & 15) + 1,
  };
  if (info.groupThreshold > info.groupCount) {
    throw new Slip39Error(`${at}invalid group threshold (${info.groupThreshold}, but the set has ${groupsWord(info.groupCount)})`);
  }
  if (info.groupIndex >= info.groupCount) {
    throw new Slip39Error(`${at}invalid group number (${info.groupIndex + 1}, but the set has ${groupsWord(info.groupCount)})`);
  }

  const valueWords = words.slice(4, -3);
  const byteCount = (RADIX_BITS * valueWords.length - paddingBits) / 8;
  let v = 0n;
  for (const w of valueWords) v = (v << BigInt(RADIX_BITS)) | BigInt(w);
  if (v >> BigInt(byteCount * 8) !== 0n) throw new Slip39Error(`${at}invalid padding`);
  const value = new Uint8Array(byteCount);
  for (let k = byteCount - 1; k >= 0; k--) {
    value[k] = Number(v & 0xffn);
    v >>= 8n;
  }
  return {
    ...info,
    group: info.groupIndex + 1,
    member: info.memberIndex + 1,
    wordCount: words.length,
    checkValue: checkValueOfNormalized(words.map(wordAt).join(' ')),
    value,
  };
}
