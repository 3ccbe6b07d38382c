import { useEffect, useState, type ReactNode } from 'react';
import type { Chosen, PlanCheck } from '../../../electron/api.ts';
import { Chooser } from '../../components/Chooser.tsx';
import { call, keyrite } from '../../bridge.ts';
import { ErrorBox, Field, Screen, useAction } from '../../components/ui.tsx';
import { useUi } from '../../store.ts';
import { PlanForm } from './PlanForm.tsx';

const TEMPLATE = JSON.stringify(
  {
    version: 1,
    id: 'example-root-2026',
    title: 'Example root key',
    participants: [
      { id: 'ada', name: 'Ada Admin', role: 'administrator' },
      { id: 'wes', name: 'Wes Witness', role: 'witness' },
      { id: 'c1', name: 'Carol One', role: 'custodian' },
      { id: 'c2', name: 'Carl Two', role: 'custodian' },
    ],
    hsm: { module: '/usr/lib/softhsm/libsofthsm2.so', tokenLabel: 'ceremony' },
    key: { label: 'example-root-2026', algorithm: 'ec-p384' },
    backup: { groupThreshold: 1, groups: [{ threshold: 2, custodians: ['c1', 'c2'] }] },
    exports: [],
    steps: [{ id: 'room', text: 'The room is sealed and no phones are present.', ackBy: ['wes'] }],
  },
  null,
  2,
);

type Mode = 'open' | 'form' | 'json';

const MODES: { mode: Mode; text: string }[] = [
  { mode: 'open', text: 'Open an existing plan' },
  { mode: 'form', text: 'Write a new plan' },
  { mode: 'json', text: 'Edit plan JSON (advanced)' },
];

/** Open a reviewed plan.json, or write one (a form, or JSON for experts), checked as you type. */
export function PlanScreen() {
  const { patch, setStep } = useUi();
  const [mode, setMode] = useState<Mode>('open');
  const [file, setFile] = useState<Chosen>();
  const [outDir, setOutDir] = useState<Chosen>();
  const [rehearsal, setRehearsal] = useState(false);
  const open = useAction();

  const openPlan = (f = file) =>
    open.run(async () => {
      if (!f) return;
      const plan = await call(keyrite().openPlan(f.handle, outDir?.handle ?? '', rehearsal));
      patch({ plan, shares: [], printed: {}, confirmed: [], custodian: 0, log: [], root: undefined, bundleDir: undefined });
      setStep('preflight');
    });
  // A saved plan is opened at once; if that fails (say, its bundle folder exists), the Open view shows why, with the file filled in.
  const openSaved = (f: Chosen) => {
    setFile(f);
    setMode('open');
    void openPlan(f);
  };

  const runFields = (
    <>
      <Field label="Where to write the bundle" hint="A folder; the ceremony adds a new folder named after the plan's id. None chosen: next to the plan.">
        <Chooser name="out" value={outDir} button="Choose the output folder…" onChoose={() => void open.run(async () => { const d = await call(keyrite().chooseFolder('output')); if (d) setOutDir(d); })} />
      </Field>
      <label className="check">
        <input type="checkbox" name="rehearsal" checked={rehearsal} onChange={(e) => setRehearsal(e.target.checked)} /> This is a rehearsal (share sheets may be saved as
        PDF files instead of printed; the transcript says it was a rehearsal)
      </label>
    </>
  );

  return (
    <Screen title="Which ceremony?" lead="Open the plan that everyone reviewed beforehand, or write a new one. Keyrite checks it before anything touches the HSM." testId="screen-plan">
      <div className="modes" role="group" aria-label="How to start">
        {MODES.map((m) => (
          <button key={m.mode} type="button" className={mode === m.mode ? undefined : 'secondary'} aria-pressed={mode === m.mode} onClick={() => setMode(m.mode)}>
            {m.text}
          </button>
        ))}
      </div>
      {mode === 'open' ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void openPlan();
          }}
        >
          <Field label="Plan file (plan.json)" hint="Chosen in the file dialog.">
            <Chooser name="plan" value={file} button="Choose the plan file…" onChoose={() => void open.run(async () => { const f = await call(keyrite().choosePlanFile()); if (f) setFile(f); })} />
          </Field>
          {runFields}
          <ErrorBox error={open.error} />
          <div className="actions">
            <button type="submit" disabled={open.busy || !file}>
              Open plan
            </button>
          </div>
        </form>
      ) : mode === 'form' ? (
        <PlanForm onSaved={openSaved}>{runFields}</PlanForm>
      ) : (
        <PlanEditor onSaved={openSaved}>{runFields}</PlanEditor>
      )}
    </Screen>
  );
}

/** The plan as JSON, for people who know the format; checked as you type like the form. */
function PlanEditor({ onSaved, children }: { onSaved(plan: Chosen): void; children?: ReactNode }) {
  const [text, setText] = useState(TEMPLATE);
  const [file, setFile] = useState('plan.json');
  const [check, setCheck] = useState<PlanCheck>();
  const save = useAction();
  // Export files are checked when the plan is saved, in the folder picked in main's dialog.
  const dir = '';

  useEffect(() => {
    const t = setTimeout(() => {
      void keyrite()
        .validatePlanText(text, dir)
        .then((r) => r.ok && setCheck(r.value));
    }, 250);
    return () => clearTimeout(t);
  }, [text, dir]);

  return (
    <form
      className="panel"
      data-testid="plan-editor"
      onSubmit={(e) => {
        e.preventDefault();
        void save.run(async () => {
          const saved = await call(keyrite().savePlan(file.trim(), text));
          if (saved) onSaved(saved);
        });
      }}
    >
      <h2>New plan (JSON)</h2>
      <p>Edit the plan below. It is checked as you type; every problem is listed with where it is.</p>
      <textarea className="code" rows={18} value={text} onChange={(e) => setText(e.target.value)} aria-label="plan.json" spellCheck={false} />
      {check ? (
        check.valid ? (
          <p className="ok" role="status">
            ✓ The plan is valid.{check.unchecked?.length ? ' Its export files are checked when it is saved.' : ''}
          </p>
        ) : (
          <ul className="problems" role="status">
            {check.problems.map((p, i) => (
              <li key={i}>
                <code>{p.path}</code>: {p.message}
              </li>
            ))}
          </ul>
        )
      ) : null}
      <Field label="Save as" hint="A file name ending in .json; the folder is chosen in the save dialog. An existing file is never overwritten.">
        <input name="plan-name" value={file} onChange={(e) => setFile(e.target.value)} />
      </Field>
      {children}
      <ErrorBox error={save.error} />
      <button type="submit" disabled={save.busy || !check?.valid || !file.trim()}>
        Save and open this plan
      </button>
    </form>
  );
}
