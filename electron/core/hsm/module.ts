import { createHash } from 'node:crypto';
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import * as graphene from 'graphene-pk11';
import { UsageError } from '../errors.ts';
import { ckrName, HsmError, pkcs11Call, toHsmError } from './errors.ts';
import { mechanismFlagNames, mechanismName } from './mechanisms.ts';
import { GrapheneSession } from './session.ts';
import { selectToken } from './select.ts';
import type { HsmModule, HsmSession, MechanismInfo, ModuleInfo, ModuleOptions, TokenInfo, TokenSelectedBy, TokenSelector } from './types.ts';

/** PKCS#11 pads these fields with spaces (and some tokens with NULs). */
export const trimPadded = (s: string | undefined) => (s ?? '').replace(/[\s\0]+$/, '');
const CKF_OS_LOCKING_OK = 2;
const version = (v: { major: number; minor: number } | undefined) => (v ? `${v.major}.${v.minor}` : '');

/** Slot ids are CK_ULONG in a little-endian buffer; shown in decimal only. */
function slotIdOf(handle: Buffer): string {
  if (handle.length >= 8) return handle.readBigUInt64LE(0).toString();
  return handle.length >= 4 ? String(handle.readUInt32LE(0)) : handle.toString('hex');
}

export function tokenFlagNames(flags: number): string[] {
  const out: string[] = [];
  for (const [name, bit] of Object.entries(graphene.TokenFlag)) {
    if (typeof bit === 'number' && (flags & bit) === bit) out.push(name);
  }
  return out;
}

class GrapheneModule implements HsmModule {
  readonly info: ModuleInfo;
  private closed = false;

  constructor(private readonly mod: graphene.Module, info: ModuleInfo) {
    this.info = info;
  }

  private slotsWithTokens(): { slot: graphene.Slot; info: TokenInfo }[] {
    const ctx = { operation: 'list its slots', token: undefined };
    return pkcs11Call(ctx, () => {
      const slots = this.mod.getSlots(true);
      const out: { slot: graphene.Slot; info: TokenInfo }[] = [];
      for (let i = 0; i < slots.length; i++) {
        const slot = slots.items(i);
        const t = slot.getToken();
        out.push({
          slot,
          info: {
            slotId: slotIdOf(slot.handle),
            slotDescription: trimPadded(slot.slotDescription),
            label: trimPadded(t.label),
            manufacturer: trimPadded(t.manufacturerID),
            model: trimPadded(t.model),
            serialNumber: trimPadded(t.serialNumber),
            firmware: version(t.firmwareVersion),
            hardware: version(t.hardwareVersion),
            flags: tokenFlagNames(t.flags),
          },
        });
      }
      return out;
    });
  }

  tokens(): TokenInfo[] {
    return this.slotsWithTokens().map((s) => s.info);
  }

  /** Tokens are found by label, narrowed by serial then slot (select.ts); never by serial alone. */
  private findSlot(sel: TokenSelector): { slot: graphene.Slot; info: TokenInfo; selectedBy: TokenSelectedBy } {
    const all = this.slotsWithTokens();
    const { token, selectedBy } = selectToken(
      all.map((s) => s.info),
      sel,
      this.info.path,
    );
    return { ...all.find((s) => s.info === token)!, selectedBy };
  }

  selectToken(selector: TokenSelector): { token: TokenInfo; selectedBy: TokenSelectedBy } {
    const { info, selectedBy } = this.findSlot(selector);
    return { token: info, selectedBy };
  }

  findToken(selector: TokenSelector): TokenInfo {
    return this.findSlot(selector).info;
  }

  mechanisms(selector: TokenSelector): MechanismInfo[] {
    const { slot, info } = this.findSlot(selector);
    return pkcs11Call({ token: info.label, operation: 'list its mechanisms' }, () => {
      const list = slot.getMechanisms();
      const out: MechanismInfo[] = [];
      for (let i = 0; i < list.length; i++) {
        const m = list.tryGetItem(i);
        if (!m) continue;
        out.push({ type: m.type, name: mechanismName(m.type), minKeySize: m.minKeySize, maxKeySize: m.maxKeySize, flags: mechanismFlagNames(m.flags) });
      }
      return out;
    });
  }

  login(selector: TokenSelector, pin: string): HsmSession {
    const { slot, info } = this.findSlot(selector);
    const ctx = {
      token: info.label,
      operation: 'log in',
      tokenFlags: () => slot.getToken().flags as number,
    };
    const session = pkcs11Call(ctx, () => slot.open(graphene.SessionFlag.RW_SESSION | graphene.SessionFlag.SERIAL_SESSION));
    try {
      session.login(pin, graphene.UserType.USER);
    } catch (err) {
      // Already logged in through another session of this process: that is fine, the login is per token.
      if (!/CKR_USER_ALREADY_LOGGED_IN/.test(String((err as Error)?.message))) {
        try {
          session.close();
        } catch {
          /* the login error is what matters */
        }
        throw toHsmError(err, ctx);
      }
    }
    const mechanisms = () => this.mechanisms({ label: info.label, serial: info.serialNumber, slotId: info.slotId });
    return new GrapheneSession(session, info, mechanisms);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    release(this.mod);
  }
}

/**
 * A library is loaded and C_Initialize'd once per process however often it is opened: C_Finalize by
 * one user would otherwise close every other user's sessions. The last close() finalises it.
 */
const loaded = new Map<string, { mod: graphene.Module; users: number; initArgs?: string }>();

function release(mod: graphene.Module): void {
  for (const [key, entry] of loaded) {
    if (entry.mod !== mod) continue;
    if (--entry.users > 0) return;
    loaded.delete(key);
  }
  try {
    mod.finalize();
  } catch {
    /* already finalised */
  }
  try {
    mod.close();
  } catch {
    /* already closed */
  }
}

function load(path: string, initArgs: string | undefined): graphene.Module {
  const key = realpathSync(path);
  const entry = loaded.get(key);
  if (entry) {
    // One library, one C_Initialize per process: other parameters would need a C_Finalize under its other users.
    if (entry.initArgs !== initArgs)
      throw new HsmError('module-load', `module ${path} is already open in this process with other initialisation arguments; close it first`, { exitCode: 2 });
    entry.users++;
    return entry.mod;
  }
  let mod: graphene.Module;
  try {
    mod = graphene.Module.load(path);
  } catch (err) {
    const reason = String((err as Error)?.message ?? err).split('\n')[0].replace(/^Error:\s*/, '');
    throw new HsmError('module-load', `module ${path} is not a PKCS#11 library (${reason})`, { exitCode: 2, cause: err });
  }
  try {
    // pkcs11js passes libraryParameters as CK_C_INITIALIZE_ARGS.pReserved (NSS's convention); OS locking as usual.
    mod.initialize(initArgs !== undefined ? { libraryParameters: initArgs, flags: CKF_OS_LOCKING_OK } : undefined);
  } catch (err) {
    try {
      mod.close();
    } catch {
      /* nothing to release */
    }
    const ckr = ckrName(err);
    const hint = /softhsm/i.test(path)
      ? '; check SOFTHSM2_CONF and its token directory'
      : ckr === 'CKR_ARGUMENTS_BAD' && initArgs === undefined
        ? "; this module may need initialisation arguments: give --module-args STRING (plan: hsm.initArgs), e.g. for NSS softoken \"configdir='sql:DIR' certPrefix='' keyPrefix='' secmod='secmod.db' flags=\""
        : initArgs !== undefined
          ? '; check the initialisation arguments (--module-args / hsm.initArgs)'
          : '';
    throw new HsmError('module-load', `module ${path} could not be initialised (${ckr ?? String((err as Error)?.message).split('\n')[0]})${hint}`, { ckr, cause: err });
  }
  loaded.set(key, { mod, users: 1, initArgs });
  return mod;
}

/**
 * Loads a PKCS#11 module file. Fails with UsageError (exit 2) when the file does not exist and with
 * HsmError 'module-load' (exit 2) when it is not a PKCS#11 library. The SHA-256 is of the file as read
 * just before loading, for the transcript.
 */
export function openModule(path: string, opts: ModuleOptions = {}): HsmModule {
  if (!existsSync(path) || !statSync(path).isFile()) throw new UsageError(`module ${path}: no such file`);
  const sha256 = createHash('sha256').update(readFileSync(path)).digest('hex');
  const initArgs = opts.initArgs === '' ? undefined : opts.initArgs;
  const mod = load(path, initArgs);
  const info: ModuleInfo = {
    path,
    ...(initArgs !== undefined ? { initArgs } : {}),
    sha256,
    manufacturer: trimPadded(mod.manufacturerID),
    library: trimPadded(mod.libraryDescription),
    libraryVersion: version(mod.libraryVersion),
    cryptokiVersion: version(mod.cryptokiVersion),
  };
  return new GrapheneModule(mod, info);
}
