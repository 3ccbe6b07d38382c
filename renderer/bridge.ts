/** The renderer's only way to main: window.keyrite, typed by electron/api.ts. */
import type { KeyriteApi, Result } from '../electron/api.ts';

declare global {
  interface Window {
    keyrite: KeyriteApi;
  }
}

export const keyrite = (): KeyriteApi => window.keyrite;

/** Unwraps a result or throws its one-line message, for screens that show errors in one place. */
export class ApiFailure extends Error {
  constructor(readonly code: string, message: string, readonly problems?: { path: string; message: string }[]) {
    super(message);
  }
}

export async function call<T>(p: Promise<Result<T>>): Promise<T> {
  const r = await p;
  if (!r.ok) throw new ApiFailure(r.error.code, r.error.message, r.error.problems);
  return r.value;
}
