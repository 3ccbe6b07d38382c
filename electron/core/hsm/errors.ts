import { KeyriteError } from '../errors.ts';
import type { HsmErrorCode } from './types.ts';

/** CKF_USER_PIN_COUNT_LOW / CKF_USER_PIN_FINAL_TRY / CKF_USER_PIN_LOCKED in CK_TOKEN_INFO.flags. */
const CKF_USER_PIN_COUNT_LOW = 0x10000;
const CKF_USER_PIN_FINAL_TRY = 0x20000;

/** A PKCS#11 failure with a plain one-line message. `ckr` is the CKR_* name when the token gave one. */
export class HsmError extends KeyriteError {
  readonly code: HsmErrorCode;
  readonly ckr?: string;
  constructor(code: HsmErrorCode, message: string, opts: { ckr?: string; exitCode?: 1 | 2; cause?: unknown } = {}) {
    // A wrong or malformed PIN can be typed again; a locked PIN or a lost token cannot.
    super(message, opts.exitCode ?? 1, { cause: opts.cause, retryable: code === 'pin-incorrect' || code === 'pin-invalid' });
    this.name = 'HsmError';
    this.code = code;
    this.ckr = opts.ckr;
  }
}

/** What was being done when PKCS#11 failed; used to word the message. */
export interface HsmErrorContext {
  /** Token label, for "token 'X'". */
  token?: string;
  /** e.g. "generate the root key", "wrap key 'root'". */
  operation: string;
  /** Mechanism name used, for CKR_MECHANISM_INVALID. */
  mechanism?: string;
  /** Reads the token's flags again after a failed login (PIN counters). */
  tokenFlags?: () => number | undefined;
}

/** The CKR_* name in a graphene/pkcs11js error ("CKR_PIN_INCORRECT:160" or "CKR_PIN_INCORRECT"). */
export function ckrName(err: unknown): string | undefined {
  const e = err as { message?: unknown; stack?: unknown };
  for (const text of [e?.message, e?.stack]) {
    const m = typeof text === 'string' ? /CKR_[A-Z0-9_]+/.exec(text) : null;
    if (m) return m[0];
  }
  return undefined;
}

/**
 * Turns any error thrown by graphene/pkcs11js into an HsmError with a plain message. The message is
 * built from the context and the CKR name only, so a PIN passed to the call can never leak into it.
 */
export function toHsmError(err: unknown, ctx: HsmErrorContext): HsmError {
  if (err instanceof HsmError) return err;
  const ckr = ckrName(err);
  const tok = ctx.token !== undefined ? `token '${ctx.token}'` : 'the token';
  const make = (code: HsmErrorCode, message: string) => new HsmError(code, message, { ckr, cause: err });
  switch (ckr) {
    case 'CKR_PIN_INCORRECT': {
      let tries = '';
      let flags: number | undefined;
      try {
        flags = ctx.tokenFlags?.();
      } catch {
        flags = undefined;
      }
      if (flags !== undefined && flags & CKF_USER_PIN_FINAL_TRY) tries = ', final try left';
      else if (flags !== undefined && flags & CKF_USER_PIN_COUNT_LOW) tries = ', few tries left';
      return make('pin-incorrect', `wrong PIN for ${tok}${tries}`);
    }
    case 'CKR_PIN_LOCKED':
      return make('pin-locked', `PIN locked on ${tok}; the security officer must reset it`);
    case 'CKR_PIN_LEN_RANGE':
      return make('pin-invalid', `the PIN for ${tok} has a length the token does not accept`);
    case 'CKR_PIN_INVALID':
      return make('pin-invalid', `the PIN for ${tok} has characters the token does not accept`);
    case 'CKR_TOKEN_NOT_PRESENT':
      return make('token-not-present', `${tok} is not present`);
    case 'CKR_DEVICE_REMOVED':
      return make('device-removed', `${tok} was removed`);
    case 'CKR_SESSION_HANDLE_INVALID':
    case 'CKR_SESSION_CLOSED':
      return make('session-closed', `the session with ${tok} was closed; cannot ${ctx.operation}`);
    case 'CKR_MECHANISM_INVALID':
      return make('mechanism-missing', `${tok} lacks mechanism ${ctx.mechanism ?? '(unknown)'}; cannot ${ctx.operation}`);
    case 'CKR_KEY_UNEXTRACTABLE':
      return make('key-not-wrappable', `cannot ${ctx.operation}: the key is not extractable`);
    case 'CKR_KEY_NOT_WRAPPABLE':
      return make('key-not-wrappable', `cannot ${ctx.operation}: ${tok} cannot wrap this kind of key`);
    case undefined: {
      const first = String((err as Error)?.message ?? err).split('\n')[0];
      return make('refused', `cannot ${ctx.operation} on ${tok}: ${first}`);
    }
    default:
      return make('refused', `${tok} refused to ${ctx.operation} (${ckr})`);
  }
}

/** Runs a PKCS#11 call and turns its failure into an HsmError. */
export function pkcs11Call<T>(ctx: HsmErrorContext, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw toHsmError(err, ctx);
  }
}
