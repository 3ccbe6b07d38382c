/**
 * NSS softoken through p11-kit's proxy module (libp11-kit.so.0 / p11-kit-proxy.so), the way a
 * desktop system hands modules to applications: the NSS database's C_Initialize parameters are in
 * the module's p11-kit config (`x-init-reserved`), and Keyrite opens only the proxy, with no
 * --module-args. p11-kit reads no user config for root, so the command runs in a private mount
 * namespace with its own /usr/share/p11-kit/modules holding just that config.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyBundle } from '../../electron/core/verify/index.ts';
import { findNssSoftoken, haveCertutil, makeNssToken, type NssToken } from '../helpers/nss.ts';
import { transcriptEvents, writeNssPlan } from '../helpers/nss-ceremony.ts';
import { KEYRITE } from './recover-fixtures.ts';

const PROXY = ['/usr/lib/x86_64-linux-gnu/p11-kit-proxy.so', '/usr/lib/aarch64-linux-gnu/p11-kit-proxy.so', '/usr/lib64/p11-kit-proxy.so'].find((p) => existsSync(p));
const missing = !findNssSoftoken() || !haveCertutil() ? 'NSS softoken is not installed: apt-get install libnss3 libnss3-tools' : !PROXY ? 'p11-kit is not installed: apt-get install p11-kit p11-kit-modules' : process.getuid?.() !== 0 ? 'needs root (private mount namespace)' : undefined;
if (missing) console.warn(`p11-kit proxy tests skipped: ${missing}`);

const PIN = '482019';
let work: string;
let token: NssToken;
let modulesDir: string;

beforeAll(() => {
  if (missing) return;
  work = mkdtempSync(path.join(os.tmpdir(), 'keyrite-p11kit-'));
  token = makeNssToken('keyrite-p11kit', PIN, work);
  modulesDir = path.join(work, 'p11-kit-modules');
  mkdirSync(modulesDir);
  writeFileSync(path.join(modulesDir, 'keyrite-nss.module'), `module: ${token.module}\nx-init-reserved: ${token.initArgs}\n`);
});
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** keyrite as a child process, seeing only the NSS module through the proxy. */
function keyrite(args: string[]) {
  const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', `mount --bind "$0" /usr/share/p11-kit/modules && exec "$@"`, modulesDir, process.execPath, KEYRITE, ...args], {
    env: { ...process.env, KR_PIN: PIN },
    encoding: 'utf8',
    timeout: 300_000,
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe.skipIf(Boolean(missing))('NSS softoken through the p11-kit proxy', () => {
  it('an aes-256 ceremony with all four exports completes and verifies VALID, the proxy recorded as the module', () => {
    const dir = path.join(work, 'p11kit-aes');
    const planFile = writeNssPlan(token, path.join(dir, 'plan'), 'p11kit-aes', 'aes-256', { initArgsInPlan: false, module: PROXY });
    const shares = path.join(dir, 'shares');
    mkdirSync(shares, { recursive: true });
    const r = keyrite(['ceremony', 'run', '--rehearsal', '--plan', planFile, '--out', path.join(dir, 'out'), '--shares-out', shares, '--confirm-from', shares, '--ack-all', '--pin-env', 'KR_PIN']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const bundle = path.join(dir, 'out', 'p11kit-aes');
    const sel = transcriptEvents(bundle).find((e) => e.type === 'hsm.selected')!.data;
    expect(sel.module.path).toBe(PROXY);
    expect(sel.module.initArgs).toBeUndefined();
    expect(sel.token).toMatchObject({ label: 'keyrite-p11kit', serialNumber: '0000000000000000', selectedBy: 'label' });
    expect(transcriptEvents(bundle).filter((e) => e.type === 'export.created')).toHaveLength(4);
    const v = verifyBundle(bundle);
    expect(v.checks.filter((c) => !c.ok)).toEqual([]);
  }, 300_000);
});
