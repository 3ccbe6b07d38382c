import { useState } from 'react';
import { call, keyrite } from '../../bridge.ts';
import { ErrorBox, Screen, useAction } from '../../components/ui.tsx';
import { useUi } from '../../store.ts';

const ROLE: Record<string, string> = {
  administrator: 'runs the ceremony',
  witness: 'watches and signs off',
  custodian: 'will keep one share of the backup',
  auditor: 'checks the record',
  observer: 'observes',
};

/** Each person named in the plan says they are present. */
export function CheckInScreen() {
  const { plan, setStep } = useUi();
  const [present, setPresent] = useState<string[]>([]);
  const act = useAction();
  const people = plan?.participants ?? [];
  const all = people.every((p) => present.includes(p.id));
  return (
    <Screen title="Who is here?" lead="Each person confirms they are present. This goes into the transcript with the time." testId="screen-checkin">
      <ul className="people">
        {people.map((p) => (
          <li key={p.id}>
            <span>
              <strong>{p.name}</strong> — {p.role} ({ROLE[p.role] ?? p.role})
            </span>
            {present.includes(p.id) ? (
              <span className="ok">✓ checked in</span>
            ) : (
              <button
                type="button"
                disabled={act.busy}
                onClick={() =>
                  void act.run(async () => {
                    await call(keyrite().checkIn(p.id));
                    setPresent((x) => [...x, p.id]);
                  })
                }
              >
                Check in {p.name}
              </button>
            )}
          </li>
        ))}
      </ul>
      <ErrorBox error={act.error} />
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setStep(plan?.steps.length ? 'steps' : 'pin');
        }}
      >
        <button type="submit" disabled={!all}>
          Everyone is here — continue
        </button>
      </form>
    </Screen>
  );
}

/** The plan's script, one step at a time, each acknowledged by the people it names. */
export function StepsScreen() {
  const { plan, setStep } = useUi();
  const [i, setI] = useState(0);
  const act = useAction();
  const steps = plan?.steps ?? [];
  const s = steps[i];
  if (!s) return null;
  const names = s.ackBy.map((id) => plan?.participants.find((p) => p.id === id)?.name ?? id);
  return (
    <Screen title={`Step ${i + 1} of ${steps.length}`} lead="Read this aloud. The people named confirm it is true." testId="screen-steps">
      <blockquote className="step-text">{s.text}</blockquote>
      <p>To be confirmed by: {names.join(', ')}</p>
      <ErrorBox error={act.error} />
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void act.run(async () => {
            await call(keyrite().acknowledge(s.id, s.ackBy));
            if (i + 1 < steps.length) setI(i + 1);
            else setStep('pin');
          });
        }}
      >
        <button type="submit" disabled={act.busy} autoFocus>
          Confirmed by {names.join(' and ')}
        </button>
      </form>
    </Screen>
  );
}
