import { describe, expect, it } from 'vitest';
import { isRetryableRestoreError } from '../../electron/recovery.ts';
import { HsmError } from '../../electron/core/hsm/index.ts';
import { OperationError } from '../../electron/core/errors.ts';

// The desktop keeps a recovery (and the shares entered) open only for failures the team can fix.
describe('which failures may be retried without entering the shares again', () => {
  it('a wrong or malformed PIN, yes; a locked PIN or a lost token, no', () => {
    expect(isRetryableRestoreError(new HsmError('pin-incorrect', "wrong PIN for token 'x'"))).toBe(true);
    expect(isRetryableRestoreError(new HsmError('pin-invalid', 'bad PIN length'))).toBe(true);
    expect(isRetryableRestoreError(new HsmError('pin-locked', 'PIN locked'))).toBe(false);
    expect(isRetryableRestoreError(new HsmError('device-removed', 'token removed'))).toBe(false);
  });
  it('errors marked retryable by the core, and nothing else', () => {
    expect(isRetryableRestoreError(new OperationError('wrong SLIP-39 passphrase', { retryable: true }))).toBe(true);
    expect(isRetryableRestoreError(new OperationError('wrong SLIP-39 passphrase'))).toBe(false);
    expect(isRetryableRestoreError(new Error('anything'))).toBe(false);
  });
});
