import { describe, expect, it } from 'vitest';
import { selectToken, selectorOf } from '../../electron/core/hsm/select.ts';
import type { TokenInfo } from '../../electron/core/hsm/types.ts';

const tok = (label: string, serialNumber: string, slotId: string): TokenInfo => ({
  label,
  serialNumber,
  slotId,
  slotDescription: '',
  manufacturer: 'm',
  model: 'x',
  firmware: '1.0',
  hardware: '1.0',
  flags: ['TOKEN_INITIALIZED'],
});

// The NSS / tpm2-pkcs11 shape: every token has the serial 0000000000000000.
const tokens = [tok('NSS Generic Crypto Services', '0000000000000000', '1'), tok('NSS Certificate DB', '0000000000000000', '2'), tok('ceremony', '0000000000000000', '3'), tok('ceremony', '0000000000000000', '4'), tok('pair', 'aa', '5'), tok('pair', 'bb', '6')];
const pick = (sel: Parameters<typeof selectToken>[1]) => selectToken(tokens, sel, '/m.so');
const err = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error('did not throw');
};

describe('token selection: label, then serial, then slot; never serial alone', () => {
  it('a unique label is enough, although every serial is the same', () => {
    expect(pick({ label: 'NSS Certificate DB' })).toEqual({ token: tokens[1], selectedBy: 'label' });
  });
  it('refuses a serial without a label, whatever it matches', () => {
    expect(err(() => pick({ serial: 'aa' })).message).toMatch(/never picked by serial alone/);
  });
  it('labels that repeat with different serials: asks for the serial, listing both', () => {
    const e = err(() => pick({ label: 'pair' }));
    expect(e.code).toBe('token-ambiguous');
    expect(e.message).toContain("'pair' (serial aa, slot 5, x)");
    expect(e.message).toContain("'pair' (serial bb, slot 6, x)");
    expect(e.message).toContain('give the serial');
    expect(pick({ label: 'pair', serial: 'bb' })).toEqual({ token: tokens[5], selectedBy: 'label+serial' });
  });
  it('label and serial both repeat: the serial cannot help, the slot is asked for', () => {
    const e = err(() => pick({ label: 'ceremony', serial: '0000000000000000' }));
    expect(e.message).toMatch(/serials repeat too: give the slot/);
    expect(e.message).toContain('slot 3');
    expect(e.message).toContain('slot 4');
    expect(pick({ label: 'ceremony', slotId: '4' })).toEqual({ token: tokens[3], selectedBy: 'label+serial+slot' });
  });
  it('a recorded selection finds the same token again, with the slot only where it was needed', () => {
    expect(selectorOf({ label: 'ceremony', serialNumber: '0000000000000000', slotId: '4', selectedBy: 'label+serial+slot' })).toEqual({ label: 'ceremony', serial: '0000000000000000', slotId: '4' });
    expect(selectorOf({ label: 'pair', serialNumber: 'aa', slotId: '5', selectedBy: 'label+serial' })).toEqual({ label: 'pair', serial: 'aa' });
  });
  it('nothing matches: names what is there', () => {
    const e = err(() => pick({ label: 'ceremony', slotId: '9' }));
    expect(e.code).toBe('token-not-found');
    expect(e.message).toContain("no token labelled 'ceremony' in slot 9");
  });
});
