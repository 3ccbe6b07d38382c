import { UsageError } from '../errors.ts';
import { HsmError } from './errors.ts';
import type { TokenInfo, TokenSelector, TokenSelectedBy } from './types.ts';

/**
 * Which token a selector names (docs/plan.md). A token is found by its label, narrowed by serial where
 * labels repeat, and by slot where label and serial both repeat. Never by serial alone: NSS and
 * tpm2-pkcs11 give every token the serial 0000000000000000, so a serial cannot name one.
 *
 * Pure: takes the module's token list, so hsm list, the ceremony and the tests share it.
 */
export function selectToken(all: TokenInfo[], sel: TokenSelector, modulePath: string): { token: TokenInfo; selectedBy: TokenSelectedBy } {
  if (sel.label === undefined || sel.label === '') {
    throw new UsageError(
      sel.serial !== undefined
        ? `a token is never picked by serial alone (several PKCS#11 modules give every token the same serial): give its label too`
        : 'a token label is required',
    );
  }
  const byLabel = all.filter((t) => t.label === sel.label);
  const matches = byLabel.filter(
    (t) => (sel.serial === undefined || t.serialNumber === sel.serial) && (sel.slotId === undefined || t.slotId === String(sel.slotId)),
  );
  if (matches.length === 0) {
    const known = all.filter((t) => t.label !== '').map(describe);
    const what = [`labelled '${sel.label}'`, sel.serial !== undefined ? `with serial ${sel.serial}` : '', sel.slotId !== undefined ? `in slot ${sel.slotId}` : '']
      .filter(Boolean)
      .join(' ');
    throw new HsmError('token-not-found', `no token ${what} in module ${modulePath}${known.length ? `; tokens: ${known.join(', ')}` : '; it has no initialised tokens'}`);
  }
  if (matches.length > 1) {
    const serials = new Set(matches.map((t) => t.serialNumber));
    const advice =
      serials.size === matches.length
        ? 'give the serial (plan hsm.tokenSerial, --token-serial)'
        : sel.serial === undefined && serials.size > 1
          ? 'give the serial, and the slot where serials repeat too (plan hsm.slot, --slot)'
          : 'their serials repeat too: give the slot (plan hsm.slot, --slot)';
    throw new HsmError('token-ambiguous', `${matches.length} tokens are labelled '${sel.label}' in module ${modulePath}: ${matches.map(describe).join(', ')}; ${advice}`);
  }
  const token = matches[0];
  // What it took to tell this token from the others, so a later command can find it the same way.
  const sameSerial = byLabel.filter((t) => t.serialNumber === token.serialNumber);
  const selectedBy: TokenSelectedBy = byLabel.length === 1 ? 'label' : sameSerial.length === 1 ? 'label+serial' : 'label+serial+slot';
  return { token, selectedBy };
}

function describe(t: TokenInfo): string {
  return `'${t.label}' (serial ${t.serialNumber || '-'}, slot ${t.slotId}${t.model ? `, ${t.model}` : ''})`;
}

/** The selector that finds a recorded token again: only what its selection needed, plus the rest as narrowing. */
export function selectorOf(token: { label: string; serialNumber?: string; slotId?: string; selectedBy?: TokenSelectedBy }): TokenSelector {
  const sel: TokenSelector = { label: token.label };
  if (token.serialNumber) sel.serial = token.serialNumber;
  if (token.selectedBy === 'label+serial+slot' && token.slotId !== undefined) sel.slotId = token.slotId;
  return sel;
}

/** A module's selectToken, or findToken for stand-in modules that lack it (benchmarks). */
export function selectOn(
  mod: { selectToken?: (s: TokenSelector) => { token: TokenInfo; selectedBy: TokenSelectedBy }; findToken: (s: TokenSelector) => TokenInfo },
  sel: TokenSelector,
): { token: TokenInfo; selectedBy: TokenSelectedBy } {
  if (mod.selectToken) return mod.selectToken(sel);
  const token = mod.findToken(sel);
  return { token, selectedBy: sel.slotId !== undefined ? 'label+serial+slot' : sel.serial !== undefined ? 'label+serial' : 'label' };
}

/** The selector of a token already chosen in this process: label, serial and slot, so nothing else can match. */
export function exactSelector(t: TokenInfo): TokenSelector {
  return { label: t.label, serial: t.serialNumber, slotId: t.slotId };
}
