/** SLIP-0039 Shamir backup of the ceremony's backup key (KEK): Keyrite's own implementation. */
export { splitSecret, combineMnemonics, type SplitOptions, type SplitResult } from './slip39.ts';
export { decodeMnemonic, type ShareInfo, type ShareParams } from './codec.ts';
export { ShareCollector, type CollectorOptions, type AddResult } from './collector.ts';
export { shareCheckValue } from './check-value.ts';
export { normalizeMnemonic, wordIndex, allWords } from './wordlist.ts';
export { Slip39Error } from './errors.ts';
