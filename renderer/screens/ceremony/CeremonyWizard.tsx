import { useRef, useState } from 'react';
import { call, keyrite } from '../../bridge.ts';
import { ErrorBox, useAction } from '../../components/ui.tsx';
import { CEREMONY_STEPS, useUi, type CeremonyStep } from '../../store.ts';
import { CustodianScreen } from './CustodianScreen.tsx';
import { CosignScreen } from './CosignScreen.tsx';
import { ExportsScreen, FinishScreen, StoppedScreen, SummaryScreen, TestRecoveryScreen } from './EndScreens.tsx';
import { GenerateScreen, PinScreen } from './KeyScreens.tsx';
import { CheckInScreen, StepsScreen } from './PeopleScreens.tsx';
import { PlanScreen } from './PlanScreen.tsx';
import { PreflightScreen } from './PreflightScreen.tsx';

const SCREENS: Record<CeremonyStep, () => React.JSX.Element | null> = {
  plan: PlanScreen,
  preflight: PreflightScreen,
  checkin: CheckInScreen,
  steps: StepsScreen,
  pin: PinScreen,
  generate: GenerateScreen,
  custodians: CustodianScreen,
  'test-recovery': TestRecoveryScreen,
  exports: ExportsScreen,
  finish: FinishScreen,
  cosign: CosignScreen,
  summary: SummaryScreen,
  stopped: StoppedScreen,
};

export function CeremonyWizard() {
  const { step, plan, finished, log, go, reset } = useUi();
  const Current = SCREENS[step];
  const at = CEREMONY_STEPS.findIndex((s) => s.step === step);
  // Once finish() wrote ceremony.completed (the co-sign screen on), there is nothing left to stop.
  const running = plan && !finished && step !== 'plan' && step !== 'cosign' && step !== 'summary' && step !== 'stopped';
  return (
    <div className="wizard">
      <nav aria-label="Ceremony progress">
        <ol className="stepper">
          {CEREMONY_STEPS.map((s, i) => (
            <li key={s.step} className={i < at || step === 'summary' ? 'done' : i === at ? 'current' : ''} aria-current={i === at ? 'step' : undefined}>
              {s.title}
            </li>
          ))}
        </ol>
      </nav>
      <main>
        <Current />
        <div className="screen-footer">
        {running ? <StopCeremony /> : null}
        {step === 'plan' ? (
          <button
            type="button"
            className="link"
            onClick={() => {
              reset();
              go('start');
            }}
          >
            ← Back to the start
          </button>
        ) : null}
        </div>
      </main>
      {log.length ? (
        <aside className="log" aria-label="Transcript so far">
          <h2>Transcript</h2>
          {/* Numbered by the transcript's own seq (what verify, status and the report quote), not by list position. */}
          <ul data-testid="live-log">
            {[...log].reverse().slice(0, 12).map((e) => (
              <li key={`${e.seq}-${e.type}`}>
                <span className="seq">seq {e.seq}</span>
                <span className="time">{e.time.slice(11, 19)}</span> {e.summary}
              </li>
            ))}
          </ul>
        </aside>
      ) : null}
    </div>
  );
}

/** Stops the ceremony at any step, with a reason that goes into the transcript. */
function StopCeremony() {
  const { patch, setStep } = useUi();
  const [open, setOpen] = useState(false);
  const reason = useRef<HTMLTextAreaElement>(null);
  const act = useAction();
  if (!open)
    return (
      <button type="button" className="danger stop" onClick={() => setOpen(true)}>
        Stop ceremony…
      </button>
    );
  return (
    <form
      className="panel stop-panel"
      role="dialog"
      aria-label="Stop the ceremony"
      onSubmit={(e) => {
        e.preventDefault();
        const text = reason.current?.value.trim() ?? '';
        if (!text) return;
        void act.run(async () => {
          const r = await call(keyrite().abort(text));
          patch({ stoppedReason: text, stoppedAdvice: r.advice });
          setStep('stopped');
        });
      }}
    >
      <h2>Stop the ceremony?</h2>
      <p>Stopping cannot be undone: this ceremony ends here and the transcript records where and why. Anything already made in the HSM stays on the token until it is removed; the next screen says how.</p>
      <label className="field">
        <span className="label">Why are you stopping?</span>
        <textarea ref={reason} name="reason" rows={3} autoFocus required />
      </label>
      <ErrorBox error={act.error} />
      <div className="actions">
        <button type="submit" className="danger" disabled={act.busy}>
          Stop the ceremony
        </button>
        <button type="button" className="secondary" onClick={() => setOpen(false)}>
          Go on with the ceremony
        </button>
      </div>
    </form>
  );
}
