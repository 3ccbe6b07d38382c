/**
 * The co-signing handlers (electron/cosigning.ts) through dispatch(), as ipcMain calls them: the
 * arguments are checked by zod before anything runs (no extra fields, no missing PIN), and neither
 * co-signing nor the attestation is possible before a ceremony is open and signed. The end-to-end
 * co-signing with a real token is in test/e2e/app-ceremony.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { Result } from '../../electron/api.ts';
import { createHandlers, dispatch } from '../../electron/ipc.ts';
import { createTestPrinter } from '../helpers/bridge.ts';

const h = createHandlers({ printer: createTestPrinter(), emit: () => {}, verify: () => ({ valid: true, checks: [] }) });
const call = (method: string, ...args: unknown[]) => dispatch(h, method, args) as Promise<Result<unknown>>;
// The module is a handle from listModules/chooseModule, never a path.
const request = { participant: 'wes', module: 'ab'.repeat(16), tokenLabel: 'wes-card' };

describe('cosign and printAttestation over IPC', () => {
  it('refuses malformed arguments before any handler runs', async () => {
    for (const args of [
      [],
      [request],
      [request, ''],
      [{ ...request, bundle: '/elsewhere' }, '1234'],
      [{ ...request, module: '/usr/lib/softhsm/libsofthsm2.so' }, '1234'],
      [{ ...request, participant: '' }, '1234'],
      [{ ...request, keyLabel: 7 }, '1234'],
      [request, 1234],
    ]) {
      const r = await call('cosign', ...args);
      expect(r.ok, JSON.stringify(args)).toBe(false);
      if (!r.ok) expect(r.error.code).toBe('usage');
    }
    for (const args of [[], [{ printer: '' }], [{ pdf: false }], [{ pdf: true, printer: 'x' }]]) {
      const r = await call('printAttestation', ...args);
      expect(r.ok, JSON.stringify(args)).toBe(false);
      if (!r.ok) expect(r.error.code).toBe('usage');
    }
  });

  it('does nothing before a ceremony is open, and never echoes the PIN', async () => {
    const r = await call('cosign', request, 'Secret-PIN-99');
    expect(r).toMatchObject({ ok: false, error: { code: 'operation', message: 'no ceremony is open; open a plan first' } });
    expect(JSON.stringify(r)).not.toContain('Secret-PIN-99');
    expect(await call('printAttestation', { pdf: true })).toMatchObject({ ok: false, error: { code: 'operation' } });
  });
});
