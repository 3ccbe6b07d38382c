/**
 * A real token seen with fewer mechanisms than it has: C_GetMechanismList leaves some out and
 * C_GetMechanismInfo narrows some key-size ranges, underneath graphene, as a token that lacks them
 * would answer. Every operation still runs on the real token, so a ceremony that goes through
 * a fallback path really does it that way (that is what the fallback tests need: SoftHSM has
 * everything natively). Only the module opened through it is changed, until it is closed.
 */
import { openModule } from '../../electron/core/hsm/index.ts';
import type { HsmModule, ModuleOptions } from '../../electron/core/hsm/types.ts';

export interface Narrowing {
  /** CKM_* numbers the token will not list. */
  hide?: number[];
  /** CKM_* number → key-size range it will report instead. */
  sizes?: Record<number, { min: number; max: number }>;
  /** CKM_* number → CKF_* bits it will not report (e.g. CKF_WRAP 0x20000 of CKM_RSA_PKCS_OAEP). */
  dropFlags?: Record<number, number>;
}

type Lib = Record<string, unknown>;

export function narrowedOpenModule(n: Narrowing): (path: string, opts?: ModuleOptions) => HsmModule {
  return (path, opts) => {
    const real = openModule(path, opts);
    const lib = (real as unknown as { mod?: { lib?: Lib } }).mod?.lib;
    if (!lib) throw new Error('narrowing needs a module opened by core/hsm openModule');
    const list = lib.C_GetMechanismList as (slot: Buffer) => number[];
    const info = lib.C_GetMechanismInfo as (slot: Buffer, type: number) => { minKeySize: number; maxKeySize: number; flags: number };
    lib.C_GetMechanismList = (slot: Buffer) => list.call(lib, slot).filter((t) => !n.hide?.includes(t));
    lib.C_GetMechanismInfo = (slot: Buffer, type: number) => {
      const i = info.call(lib, slot, type);
      const s = n.sizes?.[type];
      const drop = n.dropFlags?.[type] ?? 0;
      return { ...i, ...(s ? { minKeySize: s.min, maxKeySize: s.max } : {}), flags: i.flags & ~drop };
    };
    const close = real.close.bind(real);
    real.close = () => {
      delete lib.C_GetMechanismList;
      delete lib.C_GetMechanismInfo;
      close();
    };
    return real;
  };
}
