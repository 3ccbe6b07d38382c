import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import type { CheckItem } from '../../electron/api.ts';
import { ApiFailure } from '../bridge.ts';

/** A screen: its heading takes focus when it appears, so keyboard and screen-reader users start at the top. */
export function Screen(props: { title: string; lead?: ReactNode; children: ReactNode; aside?: ReactNode; testId?: string }) {
  const h = useRef<HTMLHeadingElement>(null);
  const section = useRef<HTMLElement>(null);
  // Focus starts at the screen's heading unless a control of the screen already took it (autoFocus),
  // so that Enter continues wherever there is an obvious next action.
  useEffect(() => {
    if (!section.current?.contains(document.activeElement)) h.current?.focus();
  }, [props.title]);
  return (
    <section className="screen" ref={section} data-testid={props.testId}>
      <h1 ref={h} tabIndex={-1}>
        {props.title}
      </h1>
      {props.lead ? <p className="lead">{props.lead}</p> : null}
      {props.children}
      {props.aside}
    </section>
  );
}

/** Runs one action at a time; keeps its error (a one-line message from main) for display. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiFailure | Error | undefined>();
  const run = useCallback(async <T,>(f: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true);
    setError(undefined);
    try {
      return await f();
    } catch (e) {
      setError(e as Error);
      return undefined;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, run, clear: () => setError(undefined) };
}

export function ErrorBox({ error }: { error?: Error }) {
  if (!error) return null;
  const problems = error instanceof ApiFailure ? error.problems : undefined;
  return (
    <div className="error" role="alert">
      <strong>That did not work.</strong> {error.message}
      {problems && problems.length > 1 ? (
        <ul>
          {problems.map((p, i) => (
            <li key={i}>
              <code>{p.path}</code>: {p.message}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

export function Checklist({ checks, testId }: { checks: CheckItem[]; testId?: string }) {
  return (
    <ul className="checklist" data-testid={testId}>
      {checks.map((c, i) => (
        <li key={i} className={c.status === 'skip' ? 'skip' : c.ok ? 'pass' : 'fail'}>
          <span className="mark" aria-label={c.status === 'skip' ? 'skipped' : c.ok ? 'passed' : 'failed'}>
            {c.status === 'skip' ? '–' : c.ok ? '✓' : '✗'}
          </span>
          <span>
            <strong>{c.name}</strong>
            <br />
            <span className="detail">{c.detail}</span>
          </span>
        </li>
      ))}
    </ul>
  );
}

export function Field(props: { label: string; hint?: ReactNode; children: ReactNode }) {
  return (
    <label className="field">
      <span className="label">{props.label}</span>
      {props.children}
      {props.hint ? <span className="hint">{props.hint}</span> : null}
    </label>
  );
}

/** Jargon with its explanation next to it, never only in a tooltip. */
export function Term({ term, children }: { term: string; children: ReactNode }) {
  return (
    <span className="term">
      <abbr title={typeof children === 'string' ? children : undefined}>{term}</abbr>
      <span className="explain"> ({children})</span>
    </span>
  );
}

export function Busy({ text }: { text?: string }) {
  return text ? (
    <p className="busy" role="status" aria-live="polite">
      {text}
    </p>
  ) : null;
}

/**
 * Gives an element focus when it appears (a ref callback, so it also works when the control that
 * had focus was disabled while main was busy and the browser dropped focus to the page).
 */
export function focusOnMount(el: HTMLElement | null): void {
  if (el) queueMicrotask(() => el.focus());
}
