/**
 * Token faults on demand, over a real module (tests and rehearsals of a bad day). It wraps the
 * HsmModule/HsmSession of openModule and, underneath them, the pkcs11js functions that graphene
 * calls: the chosen C_* call throws a real pkcs11js Pkcs11Error (CKR_DEVICE_REMOVED, ...), so the
 * failure travels through graphene, core/hsm's own error handling and toHsmError exactly as a real
 * one would. After it fires the fault stays, as it does on a real token: a removed device fails
 * every later call, a lost session every later session call, a locked PIN every later login.
 */
import pkcs11js from 'pkcs11js';
import { HsmError } from './errors.ts';
import { openModule as realOpenModule } from './module.ts';
import { UNDERLYING_SESSION } from './session.ts';
import type { HsmModule, HsmSession, ModuleOptions } from './types.ts';

/** The faults a token can show mid-ceremony, with their CKR values (PKCS#11 2.40). */
export const FAULTS = {
  CKR_DEVICE_REMOVED: 0x32,
  CKR_SESSION_HANDLE_INVALID: 0xb3,
  CKR_TOKEN_NOT_PRESENT: 0xe0,
  CKR_PIN_LOCKED: 0xa4,
  /** An attribute the token will not reveal (C_GetAttributeValue): per attribute, not per token. */
  CKR_ATTRIBUTE_SENSITIVE: 0x11,
  CKR_ATTRIBUTE_TYPE_INVALID: 0x12,
} as const;
export type FaultCkr = keyof typeof FAULTS;

export interface FaultSpec {
  ckr: FaultCkr;
  /**
   * The layer call during which the fault fires: 'login' (HsmModule.login) or an HsmSession
   * method name ('generateRootKey', 'sign', 'wrapKwp', ...). Without it, `callIndex` is used.
   */
  method?: 'login' | keyof HsmSession;
  /** Only layer calls whose arguments match count (e.g. a sign with the signer key). */
  match?: (args: unknown[]) => boolean;
  /** Which matching layer call fails; 1 (the default) is the first. */
  nth?: number;
  /** The C_* function inside that call that fails; default the first one it makes. */
  fn?: string;
  /**
   * Only C_* calls whose arguments match fail (e.g. a C_GetAttributeValue whose template asks for
   * CKA_EXTRACTABLE: see `asksFor`). An attribute fault with this keeps failing such calls after it
   * fired, as a token that will not reveal an attribute does; the other calls go through.
   */
  fnMatch?: (args: unknown[]) => boolean;
  /** Without `method`: fail the Nth C_* call made through the module (1-based). */
  callIndex?: number;
}

export interface FaultInjector {
  /** Use instead of core/hsm's openModule. */
  openModule: (path: string, opts?: ModuleOptions) => HsmModule;
  /** Set once the fault has fired: the C_* function and the layer call it failed. */
  readonly fired: { fn: string; method?: string } | undefined;
  /** C_* calls made through the module so far. */
  readonly calls: number;
}

/** Module-level functions that keep working after a session is lost. */
const MODULE_LEVEL = new Set([
  'C_Initialize',
  'C_Finalize',
  'C_GetInfo',
  'C_GetSlotList',
  'C_GetSlotInfo',
  'C_GetTokenInfo',
  'C_GetMechanismList',
  'C_GetMechanismInfo',
  'C_OpenSession',
  'C_CloseAllSessions',
]);

type Lib = Record<string | symbol, unknown>;
const PATCHED = Symbol('keyrite.fault-injection');

/** For `fnMatch`: a C_GetAttributeValue(session, object, template) whose template asks for attribute `cka`. */
export function asksFor(cka: number): (args: unknown[]) => boolean {
  return (args) => Array.isArray(args[2]) && (args[2] as { type?: number }[]).some((t) => t?.type === cka);
}

/** A pkcs11js error exactly as the binding throws it for a failed C_* call. */
export function pkcs11Error(ckr: FaultCkr, fn: string): Error {
  const code = FAULTS[ckr];
  return new pkcs11js.Pkcs11Error(`${ckr}:${code}`, code, fn);
}

export function faultInjector(spec: FaultSpec): FaultInjector {
  if (spec.method === undefined && spec.callIndex === undefined) throw new HsmError('refused', 'a fault needs a method or a callIndex');
  let calls = 0;
  let fired: { fn: string; method?: string } | undefined;
  let armed: string | undefined; // the layer call in progress that the fault targets
  const seen = new Map<string, number>();

  /** Whether this C_* call fails: first the fault itself, then what a real token does after it. */
  const fails = (fn: string, args: unknown[]): boolean => {
    calls++;
    const argsMatch = !spec.fnMatch || spec.fnMatch(args);
    if (fired) {
      if (spec.ckr === 'CKR_DEVICE_REMOVED' || spec.ckr === 'CKR_TOKEN_NOT_PRESENT') return fn !== 'C_Finalize' && fn !== 'C_Initialize';
      if (spec.ckr === 'CKR_SESSION_HANDLE_INVALID') return !MODULE_LEVEL.has(fn);
      if (spec.ckr === 'CKR_ATTRIBUTE_SENSITIVE' || spec.ckr === 'CKR_ATTRIBUTE_TYPE_INVALID') return fn === fired.fn && !!spec.fnMatch && argsMatch;
      return fn === 'C_Login';
    }
    const now = argsMatch && (spec.method === undefined ? calls === spec.callIndex : armed !== undefined && (spec.fn === undefined || spec.fn === fn));
    if (now) fired = { fn, method: armed };
    return now;
  };

  /** Runs one layer call; arms the fault when it is the targeted one. */
  const layerCall = <T>(method: string, args: unknown[], run: () => T): T => {
    if (spec.method !== method || fired || (spec.match && !spec.match(args))) return run();
    const n = (seen.get(method) ?? 0) + 1;
    seen.set(method, n);
    if (n !== (spec.nth ?? 1)) return run();
    armed = method;
    try {
      return run();
    } finally {
      armed = undefined;
    }
  };

  const patch = (lib: Lib): (() => void) => {
    if (lib[PATCHED]) throw new HsmError('refused', 'this module already has a fault injector; close it first');
    const names: string[] = [];
    for (let proto = Object.getPrototypeOf(lib); proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
      for (const name of Object.getOwnPropertyNames(proto)) if (/^C_\w+$/.test(name) && !names.includes(name)) names.push(name);
    }
    for (const name of names) {
      const orig = lib[name] as (...a: unknown[]) => unknown;
      if (typeof orig !== 'function') continue;
      lib[name] = function (this: unknown, ...a: unknown[]) {
        if (fails(name, a)) throw pkcs11Error(spec.ckr, name);
        return orig.apply(this, a);
      };
    }
    lib[PATCHED] = true;
    return () => {
      for (const name of names) delete lib[name];
      delete lib[PATCHED];
    };
  };

  const wrapSession = (session: HsmSession): HsmSession =>
    new Proxy(session, {
      get(target, prop, receiver) {
        if (prop === UNDERLYING_SESSION) return target;
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (typeof value !== 'function' || typeof prop !== 'string') return value;
        return (...args: unknown[]) => layerCall(prop, args, () => (value as (...a: unknown[]) => unknown).apply(target, args));
      },
    });

  const openModule = (path: string, opts?: ModuleOptions): HsmModule => {
    const real = realOpenModule(path, opts);
    // The graphene Module inside core/hsm's module object, and the pkcs11js binding inside it.
    const lib = (real as unknown as { mod?: { lib?: Lib } }).mod?.lib;
    if (!lib) {
      real.close();
      throw new HsmError('refused', 'fault injection needs a module opened by core/hsm openModule');
    }
    const restore = patch(lib);
    let closed = false;
    return {
      info: real.info,
      tokens: () => real.tokens(),
      findToken: (sel) => real.findToken(sel),
      selectToken: (sel) => real.selectToken!(sel),
      mechanisms: (sel) => real.mechanisms(sel),
      login: (sel, pin) => wrapSession(layerCall('login', [sel], () => real.login(sel, pin))),
      close: () => {
        if (closed) return;
        closed = true;
        restore();
        real.close();
      },
    };
  };

  return {
    openModule,
    get fired() {
      return fired;
    },
    get calls() {
      return calls;
    },
  };
}
