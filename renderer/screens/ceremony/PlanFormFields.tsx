/**
 * The plan form's building blocks: a context that every section reads (the draft, the problems per
 * field, focus requests) and labelled controls that show their own problems underneath.
 */
import { createContext, useContext, type ReactNode } from 'react';
import { controlId, type PlanDraft } from './PlanFormModel.ts';

export interface PlanFormContext {
  draft: PlanDraft;
  /** Applies a change to a copy of the draft; `path` marks the field as visited. */
  update(change: (d: PlanDraft) => void, path?: string): void;
  /** Problems to show at this path; an empty field's (or "is required") wait until it was visited or a save was tried. */
  problemsAt(path: string, empty?: boolean): string[];
  visit(path: string): void;
  /** Focuses the element with this DOM id after the next render (a new row's first field). */
  focusLater(id: string): void;
}

export const FormCtx = createContext<PlanFormContext | null>(null);
export function useForm(): PlanFormContext {
  const ctx = useContext(FormCtx);
  if (!ctx) throw new Error('plan form context missing');
  return ctx;
}

export function Problems({ path, empty }: { path: string; empty?: boolean }) {
  const { problemsAt } = useForm();
  const list = problemsAt(path, empty);
  if (!list.length) return null;
  return (
    <ul className="field-problems" id={`${controlId(path)}-problems`} data-path={path}>
      {list.map((m, i) => (
        <li key={i}>{m}</li>
      ))}
    </ul>
  );
}

function describedBy(path: string, problems: string[], hint?: ReactNode): string | undefined {
  const ids = [hint ? `${controlId(path)}-hint` : '', problems.length ? `${controlId(path)}-problems` : ''].filter(Boolean);
  return ids.length ? ids.join(' ') : undefined;
}

/** A labelled text or number box bound to one plan path. */
export function TextInput(props: {
  path: string;
  label: ReactNode;
  hint?: ReactNode;
  value: string;
  set(d: PlanDraft, value: string): void;
  type?: 'text' | 'number';
  min?: number;
  max?: number;
  placeholder?: string;
  multiline?: boolean;
  className?: string;
}) {
  const { update, problemsAt, visit } = useForm();
  const id = controlId(props.path);
  const empty = props.value.trim() === '';
  const problems = problemsAt(props.path, empty);
  const common = {
    id,
    name: props.path,
    value: props.value,
    'aria-invalid': problems.length > 0 || undefined,
    'aria-describedby': describedBy(props.path, problems, props.hint),
    onBlur: () => visit(props.path),
    placeholder: props.placeholder,
    spellCheck: false,
  };
  return (
    <div className={`field ${props.className ?? ''}`}>
      <label className="label" htmlFor={id}>
        {props.label}
      </label>
      {props.multiline ? (
        <textarea rows={2} {...common} onChange={(e) => update((d) => props.set(d, e.target.value), props.path)} />
      ) : (
        <input
          type={props.type ?? 'text'}
          inputMode={props.type === 'number' ? 'numeric' : undefined}
          min={props.min}
          max={props.max}
          {...common}
          onChange={(e) => update((d) => props.set(d, e.target.value), props.path)}
        />
      )}
      {props.hint ? (
        <span className="hint" id={`${id}-hint`}>
          {props.hint}
        </span>
      ) : null}
      <Problems path={props.path} empty={empty} />
    </div>
  );
}

/** A labelled choice; each option may carry a short explanation after a dash. */
export function Choice(props: {
  path: string;
  label: ReactNode;
  hint?: ReactNode;
  value: string;
  options: readonly (string | { value: string; text: string })[];
  set(d: PlanDraft, value: string): void;
  className?: string;
}) {
  const { update, problemsAt } = useForm();
  const id = controlId(props.path);
  const problems = problemsAt(props.path);
  return (
    <div className={`field ${props.className ?? ''}`}>
      <label className="label" htmlFor={id}>
        {props.label}
      </label>
      <select
        id={id}
        name={props.path}
        value={props.value}
        aria-invalid={problems.length > 0 || undefined}
        aria-describedby={describedBy(props.path, problems, props.hint)}
        onChange={(e) => update((d) => props.set(d, e.target.value), props.path)}
      >
        {props.options.map((o) => {
          const { value, text } = typeof o === 'string' ? { value: o, text: o } : o;
          return (
            <option key={value} value={value}>
              {text}
            </option>
          );
        })}
      </select>
      {props.hint ? (
        <span className="hint" id={`${id}-hint`}>
          {props.hint}
        </span>
      ) : null}
      <Problems path={props.path} />
    </div>
  );
}

export function Tick(props: { path: string; label: ReactNode; checked: boolean; set(d: PlanDraft, checked: boolean): void }) {
  const { update } = useForm();
  const id = controlId(props.path);
  return (
    <div className="check">
      <input type="checkbox" id={id} name={props.path} checked={props.checked} onChange={(e) => update((d) => props.set(d, e.target.checked), props.path)} />{' '}
      <label htmlFor={id}>{props.label}</label>
      <Problems path={props.path} />
    </div>
  );
}

/** Several participants ticked from a list (group custodians, a step's acknowledgers). */
export function PeoplePicker(props: {
  path: string;
  legend: ReactNode;
  hint?: ReactNode;
  people: { uid: string; text: string }[];
  chosen: string[];
  set(d: PlanDraft, uids: string[]): void;
  empty: string;
}) {
  const { update } = useForm();
  const id = controlId(props.path);
  const order = props.people.map((p) => p.uid);
  return (
    <fieldset className="picker" id={id} tabIndex={-1}>
      <legend className="label">{props.legend}</legend>
      {props.hint ? <span className="hint">{props.hint}</span> : null}
      {props.people.length ? (
        <div className="picks">
          {props.people.map((p) => (
            <label key={p.uid} className="pick">
              <input
                type="checkbox"
                checked={props.chosen.includes(p.uid)}
                onChange={(e) => {
                  const on = e.target.checked;
                  update((d) => props.set(d, order.filter((u) => (u === p.uid ? on : props.chosen.includes(u)))), props.path);
                }}
              />{' '}
              {p.text}
            </label>
          ))}
        </div>
      ) : (
        <p className="hint">{props.empty}</p>
      )}
      <Problems path={props.path} />
    </fieldset>
  );
}

/** A section of the form: its heading takes focus from the summary; problems about the whole list show under it. */
export function Section(props: { path: string; title: string; intro: ReactNode; children: ReactNode }) {
  return (
    <section className="form-section" aria-labelledby={controlId(props.path)}>
      <h2 id={controlId(props.path)} tabIndex={-1}>
        {props.title}
      </h2>
      <p className="hint">{props.intro}</p>
      <Problems path={props.path} />
      {props.children}
    </section>
  );
}

/** One row of a list (participant, group, export, step) with its Remove button. */
export function Row(props: { path: string; legend: string; onRemove?: () => void; removeLabel: string; className?: string; children: ReactNode }) {
  return (
    <fieldset className={`form-row ${props.className ?? ''}`} id={controlId(props.path)} tabIndex={-1} data-path={props.path}>
      <legend>{props.legend}</legend>
      <Problems path={props.path} />
      <div className="row-fields">
        {props.children}
        {props.onRemove ? (
          <button type="button" className="secondary remove" onClick={props.onRemove} aria-label={props.removeLabel}>
            Remove
          </button>
        ) : null}
      </div>
    </fieldset>
  );
}
