/**
 * Stopping `keyrite recover` with a signal (test/helpers/tty-stop.py drives a real pseudo-terminal):
 * kill -INT or kill -TERM to the node process at the share prompt answers the prompt with the stop,
 * prints one line saying at which prompt and that nothing was written, exits 1, leaves no keyrite
 * process behind, and leaves the target token exactly as it was (pkcs11-tool's listing) with no
 * recovery folder in the bundle. Ctrl-C typed at the prompt says the same. A signal during the
 * restore itself (synchronous, no prompt) is said afterwards and the completed recovery stands.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSoftHsmSandbox, type SoftHsmSandbox } from '../../electron/core/hsm/softhsm.ts';
import { Recovery } from '../../electron/core/ceremony/recover.ts';
import { main } from '../../electron/cli/keyrite.ts';
import { processIO } from '../../electron/cli/io.ts';
import { captureIO, KEYRITE, pkcs11Tool, REPO, runCeremony, tokenObjects, type CeremonyFixture } from './recover-fixtures.ts';

const PIN = '24680';
let sb: SoftHsmSandbox;
let work: string;
let a: CeremonyFixture;
let before: string[];

beforeAll(async () => {
  sb = createSoftHsmSandbox();
  process.env.SOFTHSM2_CONF = sb.confPath;
  work = mkdtempSync(path.join(os.tmpdir(), 'keyrite-recover-signals-'));
  sb.initToken('ceremony', PIN);
  a = await runCeremony(sb, work, { id: 'signals-a', algorithm: 'ec-p256', tokenLabel: 'ceremony', pin: PIN });
  sb.initToken('target', PIN);
  sb.initToken('late', PIN);
  // Something already on the target, so "unchanged" compares a real listing, not two empty ones.
  pkcs11Tool(sb, ['--token-label', 'target', '--login', '--pin', PIN, '--keypairgen', '--key-type', 'EC:prime256v1', '--label', 'already-there']);
  before = tokenObjects(sb, 'target', PIN);
}, 120_000);
afterAll(() => {
  sb?.dispose();
  rmSync(work, { recursive: true, force: true });
});

function stopRecover(signal: 'INT' | 'TERM' | 'CTRLC', marker: string, where: 'share' | 'pin' = 'share'): string {
  // The last argument names the run, so tty-stop.py can find any keyrite process left behind.
  const cmd = ['node', KEYRITE, 'recover', '--bundle', a.bundle, '--module', sb.module, '--token', 'target', '--label', marker];
  return execFileSync('python3', [path.join(REPO, 'test/helpers/tty-stop.py'), signal, where, PIN, '--', ...cmd], {
    env: { ...process.env, ...sb.env },
    encoding: 'utf8',
    cwd: REPO,
    timeout: 120_000,
  });
}

describe('a signal at the share prompt stops keyrite recover before the token is touched', () => {
  for (const signal of ['INT', 'TERM'] as const) {
    it(`kill -${signal} at share 1: says what happened, exit 1, no process left, token unchanged`, () => {
      expect(before.length).toBeGreaterThan(0);
      const screen = stopRecover(signal, `sig-${signal.toLowerCase()}-restored`);
      expect(screen).toContain(`SIG${signal} received`);
      expect(screen).toMatch(new RegExp(`keyrite: error: stopped by SIG${signal} at share 1: nothing was written to the token and no recovery record was started; the shares entered so far are not kept`));
      expect(screen).toMatch(/STOPPED exit=1 leftover=\n/);
      expect(tokenObjects(sb, 'target', PIN)).toEqual(before);
      expect(existsSync(path.join(a.bundle, 'recoveries'))).toBe(false);
    }, 150_000);
  }

  it('kill -TERM at the PIN prompt: names that prompt, exit 1, token unchanged', () => {
    const screen = stopRecover('TERM', 'sig-pin-restored', 'pin');
    expect(screen).toMatch(/keyrite: error: stopped by SIGTERM at the PIN prompt: nothing was written to the token/);
    expect(screen).toMatch(/STOPPED exit=1 leftover=\n/);
    expect(tokenObjects(sb, 'target', PIN)).toEqual(before);
    expect(existsSync(path.join(a.bundle, 'recoveries'))).toBe(false);
  }, 150_000);

  it('Ctrl-C typed at share 1: the same plain message, exit 1, token unchanged', () => {
    const screen = stopRecover('CTRLC', 'ctrl-c-restored');
    expect(screen).toMatch(/keyrite: error: stopped by Ctrl-C at share 1: nothing was written to the token/);
    expect(screen).toMatch(/STOPPED exit=1 leftover=\n/);
    expect(tokenObjects(sb, 'target', PIN)).toEqual(before);
    expect(existsSync(path.join(a.bundle, 'recoveries'))).toBe(false);
  }, 150_000);

  it('a signal during the restore (no prompt, synchronous) is said after it, not acted on: the recovery stands', async () => {
    // A real SIGINT to this process, sent while the restore runs: Node delivers it only when the restore returns.
    const restore = Recovery.prototype.restore;
    Recovery.prototype.restore = function (this: Recovery, pin: string) {
      process.kill(process.pid, 'SIGINT');
      return restore.call(this, pin);
    };
    try {
      const { io, out, err } = captureIO({ stdin: a.shares.slice(0, 2).join('\n') + '\n', env: { KR_PIN: PIN } });
      const status = await main(['recover', '--bundle', a.bundle, '--module', sb.module, '--token', 'late', '--pin-env', 'KR_PIN'], { ...io, watchStops: processIO().watchStops });
      expect(err.join('')).toContain('the SIGINT came during the restore, which runs to its end once started: the key is restored and the recovery recorded');
      expect(status).toBe(0);
      expect(out.join('')).toContain('Restored:');
      expect(tokenObjects(sb, 'late', PIN).length).toBeGreaterThan(0);
    } finally {
      Recovery.prototype.restore = restore;
    }
  }, 150_000);
});
