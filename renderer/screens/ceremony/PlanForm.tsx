/**
 * "Write a new plan": a form a ceremony administrator fills in, instead of JSON. While they type,
 * the plan it makes is checked by main with the same rules as `keyrite plan check`; each problem
 * appears next to its field and in a summary above the Save button. Saving writes plan.json
 * exclusively (an existing file is never overwritten) and hands the file to the caller to open.
 */
import { useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import type { Chosen, PlanCheck } from '../../../electron/api.ts';
import { call, keyrite } from '../../bridge.ts';
import { ErrorBox, useAction } from '../../components/ui.tsx';
import { FormCtx, TextInput, type PlanFormContext } from './PlanFormFields.tsx';
import { anchorOf, controlId, emptyDraft, fieldPaths, isEmptinessMessage, planText, readablePath, type PlanDraft } from './PlanFormModel.ts';
import { BackupSection, ExportsSection, HsmKeySection, ParticipantsSection, StepsSection } from './PlanFormSections.tsx';

const SUMMARY_ID = 'pf-summary';

export function PlanForm({ onSaved, children }: { onSaved(plan: Chosen): void; children?: ReactNode }) {
  const [draft, setDraft] = useState<PlanDraft>(emptyDraft);
  const [visited, setVisited] = useState<ReadonlySet<string>>(() => new Set());
  const [showAll, setShowAll] = useState(false);
  const [check, setCheck] = useState<{ text: string; dir: string; result: PlanCheck }>();
  const [fileName, setFileName] = useState('plan.json');
  const [note, setNote] = useState('');
  const save = useAction();
  const pendingFocus = useRef<string | undefined>(undefined);
  const seq = useRef(0);

  const text = useMemo(() => planText(draft), [draft]);
  // Relative file paths in the plan (wrapping keys, import tokens) are checked once the plan is saved
  // in the folder the user picks in main's dialog; until then they are listed as unchecked.
  const dir = '';
  const current = check !== undefined && check.text === text && check.dir === dir;

  // Checked as you type, a moment after the last key; a late answer for an older draft is dropped.
  useEffect(() => {
    const mine = ++seq.current;
    const t = setTimeout(() => {
      void keyrite()
        .validatePlanText(text, dir)
        .then((r) => {
          if (r.ok && mine === seq.current) setCheck({ text, dir, result: r.value });
        });
    }, 200);
    return () => clearTimeout(t);
  }, [text, dir]);

  useEffect(() => {
    if (!pendingFocus.current) return;
    document.getElementById(pendingFocus.current)?.focus();
    pendingFocus.current = undefined;
  });

  const known = useMemo(() => fieldPaths(draft), [draft]);
  const problems = check?.result.problems ?? [];
  const byField = useMemo(() => {
    const m = new Map<string, { path: string; message: string }[]>();
    for (const p of problems) {
      const at = anchorOf(p.path, known);
      m.set(at, [...(m.get(at) ?? []), p]);
    }
    return m;
  }, [problems, known]);

  const visit = (path: string) => setVisited((v) => (v.has(path) ? v : new Set(v).add(path)));
  const ctx: PlanFormContext = {
    draft,
    update(change, path) {
      setDraft((d) => {
        const copy = structuredClone(d);
        change(copy);
        return copy;
      });
      if (path) visit(path);
      setNote('');
    },
    // "Still empty" waits until someone has been to the field (or tried to save); every other problem shows at once.
    problemsAt: (path, empty) => (byField.get(path) ?? []).filter((p) => showAll || visited.has(path) || !(empty || isEmptinessMessage(p.message))).map((p) => p.message),
    visit,
    focusLater(id) {
      pendingFocus.current = id;
    },
  };

  const submit = () => {
    if (!fileName.trim()) {
      setNote('Give the plan a file name; the folder is chosen in the save dialog.');
      document.getElementById('pf-save-name')?.focus();
      return;
    }
    if (/[\\/]/.test(fileName)) {
      setNote('The file name is only a name, without a folder; the folder is chosen in the save dialog.');
      document.getElementById('pf-save-name')?.focus();
      return;
    }
    if (current && !check.result.valid) {
      setShowAll(true);
      setNote(`The plan is not ready: ${problems.length} problem${problems.length === 1 ? '' : 's'} to fix. Each is shown at its field and listed here.`);
      document.getElementById(SUMMARY_ID)?.focus();
      return;
    }
    // Main checks again before writing, whatever this screen last saw.
    // Main shows its own save dialog (null: cancelled); the name here is only its suggestion.
    void save.run(async () => {
      const saved = await call(keyrite().savePlan(fileName.trim(), text));
      if (saved) onSaved(saved);
    });
  };

  return (
    <FormCtx.Provider value={ctx}>
      <form
        className="plan-form"
        data-testid="plan-form"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
        onKeyDown={(e) => {
          // Enter in a field of this long form does not save half a plan; it saves from the Save boxes and button.
          const t = e.target as HTMLElement;
          if (e.key === 'Enter' && t instanceof HTMLInputElement && t.type !== 'checkbox' && !t.dataset.enterSaves) e.preventDefault();
        }}
      >
        <section className="form-section">
          <h2>The ceremony</h2>
          <div className="pair">
            <TextInput
              path="id"
              label="Plan id"
              hint="Lowercase letters, digits and “-”, 3 to 63 characters, e.g. acme-root-2026. The bundle folder gets this name."
              value={draft.id}
              set={(d, v) => (d.id = v)}
            />
            <TextInput path="title" label="Title" hint="What this ceremony is, in plain words." value={draft.title} set={(d, v) => (d.title = v)} />
          </div>
        </section>
        <ParticipantsSection />
        <HsmKeySection />
        <BackupSection />
        <ExportsSection />
        <StepsSection />

        <section className="form-section save-section">
          <h2>Save the plan</h2>
          <div className="field narrow">
            <label className="label" htmlFor="pf-save-name">
              File name
            </label>
            <input id="pf-save-name" name="plan-name" data-enter-saves="1" value={fileName} onChange={(e) => setFileName(e.target.value)} spellCheck={false} />
            <span className="hint">Ends in .json. The folder is chosen in the save dialog; export files named above are looked for relative to it. An existing file is never overwritten.</span>
          </div>
          {children}
          <Summary current={current} check={check?.result} problems={problems} anchor={(p) => anchorOf(p, known)} />
          {note ? (
            <p className="warn" role="alert">
              {note}
            </p>
          ) : null}
          <ErrorBox error={save.error} />
          <div className="actions">
            <button type="submit" disabled={save.busy}>
              Save plan and continue
            </button>
          </div>
          <details className="preview">
            <summary>Show the plan.json this form writes</summary>
            <pre className="code" data-testid="plan-preview">
              {text}
            </pre>
          </details>
        </section>
      </form>
    </FormCtx.Provider>
  );
}

/** Every problem in one list, each a button that takes you to its field. */
function Summary(props: { current: boolean; check?: PlanCheck; problems: { path: string; message: string }[]; anchor(path: string): string }) {
  const { current, check, problems } = props;
  return (
    <div className="plan-summary" id={SUMMARY_ID} tabIndex={-1} data-testid="plan-form-summary">
      <p role="status" aria-live="polite" className={check?.valid && current ? 'ok' : undefined}>
        {!check
          ? 'Checking the plan…'
          : check.valid
            ? current
              ? `✓ The plan is complete and passes the same check as “keyrite plan check”.${check.unchecked?.length ? ' Its export files are checked when it is saved.' : ''}`
              : 'Checking the plan…'
            : `${problems.length} problem${problems.length === 1 ? '' : 's'} to fix before the plan can be saved${current ? '' : ' (checking again…)'}:`}
      </p>
      {check && !check.valid ? (
        <ul className="problems">
          {problems.map((p, i) => {
            const at = props.anchor(p.path);
            return (
              <li key={i}>
                <button type="button" className="link" onClick={() => document.getElementById(controlId(at || 'id'))?.focus()}>
                  {readablePath(p.path)}
                </button>
                : {p.message} <code className="json-path">{p.path}</code>
              </li>
            );
          })}
        </ul>
      ) : null}
    </div>
  );
}
