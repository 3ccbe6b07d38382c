/**
 * The verifier's vocabulary: a check is a name, a status and a one-line detail. A check body
 * returns its detail (pass), returns skipped(detail) when it had nothing to check, or calls
 * fail(detail); anything else it throws becomes a failed check, so no input can crash the verifier.
 */

export type CheckStatus = 'pass' | 'fail' | 'skip';

export interface VerifyCheck {
  name: string;
  /** False exactly when the check failed; a skipped check is not a failure (and not a pass). */
  ok: boolean;
  status: CheckStatus;
  detail: string;
}

class CheckFailure extends Error {}

/** Ends a check body as failed. */
export const fail = (detail: string): never => {
  throw new CheckFailure(oneLine(detail));
};

/** What a check body returns when it did not run (nothing was asked of it, nothing to check). */
export interface Skipped {
  skip: string;
}
export const skipped = (detail: string): Skipped => ({ skip: detail });

export type CheckBody = () => string | Skipped | { ok: boolean; detail: string };

export class Checklist {
  readonly checks: VerifyCheck[] = [];
  run(name: string, fn: CheckBody): VerifyCheck {
    let check: VerifyCheck;
    try {
      const r = fn();
      if (typeof r === 'string') check = { name, ok: true, status: 'pass', detail: oneLine(r) };
      else if ('skip' in r) check = { name, ok: true, status: 'skip', detail: oneLine(r.skip) };
      else check = { name, ok: r.ok, status: r.ok ? 'pass' : 'fail', detail: oneLine(r.detail) };
    } catch (err) {
      const detail = err instanceof CheckFailure ? err.message : `could not be checked: ${oneLine((err as Error)?.message ?? String(err))}`;
      check = { name, ok: false, status: 'fail', detail };
    }
    this.checks.push(check);
    return check;
  }
}

export function oneLine(s: string, max = 240): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

/** First problem plus how many more, for a detail line. */
export function firstOf(problems: string[]): string {
  return problems.length === 1 ? problems[0] : `${problems[0]} (and ${problems.length - 1} more)`;
}

export const short = (hex: string): string => `${hex.slice(0, 12)}…`;
export const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

export const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
export const isString = (v: unknown): v is string => typeof v === 'string';
export const isInt = (v: unknown): v is number => Number.isSafeInteger(v);

/** A value at a dotted path of plain objects (own properties only), or undefined. */
export function get(obj: unknown, dotted: string): unknown {
  let cur: unknown = obj;
  for (const k of dotted.split('.')) {
    if (!isObject(cur) || !Object.prototype.hasOwnProperty.call(cur, k)) return undefined;
    cur = cur[k];
  }
  return cur;
}
