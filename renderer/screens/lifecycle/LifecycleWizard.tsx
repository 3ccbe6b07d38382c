/**
 * A re-share or a destruction as a guided sequence (docs/lifecycle.md, docs/desktop.md): the plan is
 * opened (its link to the previous bundle checked), then for a re-share the old shares before the
 * token is touched, the PIN, check-in, the plan's script, the new backup and its sheets, and the
 * custodians' acknowledgements that their old sheets are destroyed; for a destruction the sheets,
 * then the versions destroyed and the certificate. Each ends with the signed statement.
 * State is this component's own and public: no PIN or word is kept here.
 */
import { useState } from 'react';
import type { Chosen, DestructionSummary, LifecycleSummary } from '../../../electron/api.ts';
import { call, keyrite } from '../../bridge.ts';
import { Chooser } from '../../components/Chooser.tsx';
import { ErrorBox, Field, Screen, useAction } from '../../components/ui.tsx';
import { useUi } from '../../store.ts';
import { CosignScreen } from '../ceremony/CosignScreen.tsx';
import { LifecycleChecks } from './LifecycleChecks.tsx';
import { NewSharesScreen, OldSharesScreen } from './LifecycleShares.tsx';

type Step = 'plan' | 'checks' | 'old-shares' | 'pin' | 'checkin' | 'steps' | 'new-shares' | 'sheets' | 'destroy' | 'finish' | 'cosign' | 'done' | 'stopped';

const FLOWS: Record<'reshare' | 'destroy', Step[]> = {
  reshare: ['plan', 'checks', 'old-shares', 'pin', 'checkin', 'steps', 'new-shares', 'sheets', 'finish', 'cosign'],
  destroy: ['plan', 'checks', 'pin', 'checkin', 'steps', 'sheets', 'destroy', 'finish', 'cosign'],
};
const TITLES: Record<Step, string> = {
  plan: 'Plan', checks: 'Checks', 'old-shares': 'Old shares', pin: 'PIN', checkin: 'Check in', steps: 'Script', 'new-shares': 'New shares',
  sheets: 'Old sheets', destroy: 'Destroy', finish: 'Sign', cosign: 'Co-sign', done: 'Done', stopped: 'Stopped',
};

export function LifecycleWizard() {
  const { lifecycleKind: kind, go, reset } = useUi();
  const [step, setStep] = useState<Step>('plan');
  const [summary, setSummary] = useState<LifecycleSummary>();
  const [done, setDone] = useState<{ bundleDir: string; statementSha256: string }>();
  /** The checks screen's "we know this machine is connected": main records it at login. */
  const [networkAck, setNetworkAck] = useState(false);
  const flow = FLOWS[kind];
  const next = () => setStep(flow[flow.indexOf(step) + 1] ?? 'done');
  const at = flow.indexOf(step);
  const body = (() => {
    if (step === 'plan') return <LifecyclePlanScreen kind={kind} onOpen={(s) => { setSummary(s); useUi.getState().patch({ bundleDir: undefined }); setStep(flow[1]); }} />;
    const s = summary!;
    switch (step) {
      case 'checks': return <LifecycleChecks summary={s} onDone={(ack) => { setNetworkAck(ack); next(); }} />;
      case 'old-shares': return <OldSharesScreen summary={s} onDone={next} />;
      case 'pin': return <LifecyclePin summary={s} networkAck={networkAck} onDone={next} />;
      case 'checkin': return <LifecycleCheckIn summary={s} onDone={next} />;
      case 'steps': return <LifecycleSteps summary={s} onDone={next} />;
      case 'new-shares': return <NewSharesScreen summary={s} onDone={next} />;
      case 'sheets': return <SheetsDestroyed summary={s} onDone={next} />;
      case 'destroy': return <DestroyScreen summary={s} onDone={next} />;
      case 'finish': return <LifecycleFinish summary={s} onDone={(d) => { setDone(d); setStep('cosign'); }} />;
      // The same co-signing screen as a generation's: witnesses add their signatures to this bundle.
      case 'cosign': return <CosignScreen participants={s.participants} statementSha256={done?.statementSha256} rehearsal={s.rehearsal} onContinue={() => setStep('done')} />;
      case 'done':
        return (
          <Screen title={s.kind === 'reshare' ? 'Re-shared and signed' : 'Destroyed and signed'} testId="screen-lifecycle-done">
            <p>Bundle: <code data-testid="lifecycle-bundle">{done?.bundleDir}</code></p>
            <p>Statement digest (read it aloud and write it on the paper record): <code data-testid="lifecycle-statement">{done?.statementSha256}</code></p>
            {s.kind === 'reshare' ? <p className="warning">The old shares still open every copy of the old backup/root.wrapped: destroy those copies too.</p> : null}
            <button type="button" onClick={() => { reset(); go('start'); }}>Back to the start</button>
          </Screen>
        );
      default:
        return (
          <Screen title="Stopped" testId="screen-lifecycle-stopped">
            <p>The transcript records where and why the ceremony stopped.</p>
            <button type="button" onClick={() => { reset(); go('start'); }}>Back to the start</button>
          </Screen>
        );
    }
  })();
  return (
    <div className="wizard">
      <nav aria-label={`${kind === 'reshare' ? 'Re-share' : 'Destruction'} progress`}>
        <ol className="stepper">
          {flow.map((x, i) => (
            <li key={x} className={i < at || step === 'done' ? 'done' : i === at ? 'current' : ''} aria-current={i === at ? 'step' : undefined}>{TITLES[x]}</li>
          ))}
        </ol>
      </nav>
      <main>
        {body}
        <div className="screen-footer">
          {step === 'plan' ? <button type="button" className="link" onClick={() => { reset(); go('start'); }}>← Back to the start</button> : null}
          {summary && step !== 'plan' && step !== 'cosign' && step !== 'done' && step !== 'stopped' ? <StopLifecycle onStopped={() => setStep('stopped')} /> : null}
        </div>
      </main>
    </div>
  );
}

function LifecyclePlanScreen({ kind, onOpen }: { kind: 'reshare' | 'destroy'; onOpen(s: LifecycleSummary): void }) {
  const [file, setFile] = useState<Chosen>();
  const [outDir, setOutDir] = useState<Chosen>();
  const [rehearsal, setRehearsal] = useState(false);
  const act = useAction();
  return (
    <Screen
      title={kind === 'reshare' ? 'Re-share a key’s backup' : 'Destroy versions of a key'}
      lead="Open the reviewed plan. Its link to the key’s previous bundle (the statement digest on the paper record) is checked before anything else."
      testId="screen-lifecycle-plan"
    >
      <Field label="The plan">
        <Chooser name="lifecycle-plan" value={file} button="Choose the plan…" onChoose={() => void act.run(async () => { const f = await call(keyrite().choosePlanFile()); if (f) setFile(f); })} />
      </Field>
      <Field label="Where to write the bundle" hint="None chosen: next to the plan.">
        <Chooser name="lifecycle-out" value={outDir} button="Choose the output folder…" onChoose={() => void act.run(async () => { const d = await call(keyrite().chooseFolder('output')); if (d) setOutDir(d); })} />
      </Field>
      <label className="check">
        <input type="checkbox" name="rehearsal" checked={rehearsal} onChange={(e) => setRehearsal(e.target.checked)} /> This is a rehearsal
        {kind === 'reshare' ? ' (the new sheets are written as files instead of printed)' : ''}
      </label>
      <ErrorBox error={act.error} />
      <div className="actions">
        <button type="button" disabled={!file || act.busy} onClick={() => void act.run(async () => onOpen(await call(keyrite().lifecycleOpen(file!.handle, outDir?.handle ?? '', rehearsal))))}>
          Open the plan
        </button>
      </div>
    </Screen>
  );
}

function LifecyclePin({ summary, networkAck, onDone }: { summary: LifecycleSummary; networkAck: boolean; onDone(): void }) {
  const act = useAction();
  const [pin, setPin] = useState('');
  const h = summary.hsm;
  return (
    <Screen
      title="Log in to the HSM"
      lead={`Token '${h.tokenLabel ?? '?'}'${h.tokenSerial ? ` serial ${h.tokenSerial}` : ''}${h.slot !== undefined ? ` in slot ${h.slot}` : ''}${h.initArgs ? `, module opened with the plan's parameters` : ''}. ${summary.kind === 'reshare' ? `Re-sharing version ${summary.reshare!.version}.` : `Destroying ${summary.destroy!.versions.map((v) => `version ${v.version} '${v.label}'`).join(', ')}.`}`}
      testId="screen-lifecycle-pin"
    >
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const p = pin;
          setPin('');
          void act.run(async () => {
            await call(keyrite().lifecycleLogin(p, networkAck));
            useUi.getState().patch({ bundleDir: summary.bundleDir });
            onDone();
          });
        }}
      >
        <Field label="Token PIN">
          <input type="password" name="pin" autoComplete="off" autoFocus value={pin} onChange={(e) => setPin(e.target.value)} />
        </Field>
        <ErrorBox error={act.error} />
        <button type="submit" disabled={!pin || act.busy}>Log in</button>
      </form>
    </Screen>
  );
}

function LifecycleCheckIn({ summary, onDone }: { summary: LifecycleSummary; onDone(): void }) {
  const act = useAction();
  const [inRoom, setInRoom] = useState<string[]>([]);
  return (
    <Screen title="Who is here?" lead="Each participant checks in; the transcript records it." testId="screen-lifecycle-checkin">
      <ul className="people">
        {summary.participants.map((p) => (
          <li key={p.id}>
            {p.name} ({p.role}){' '}
            {inRoom.includes(p.id) ? <span>checked in</span> : (
              <button type="button" className="secondary" disabled={act.busy} onClick={() => void act.run(async () => setInRoom((await call(keyrite().lifecycleCheckIn(p.id))).checkedIn))}>
                Check in {p.name}
              </button>
            )}
          </li>
        ))}
      </ul>
      <ErrorBox error={act.error} />
      <button type="button" disabled={inRoom.length < summary.participants.length} onClick={onDone}>Continue</button>
    </Screen>
  );
}

function LifecycleSteps({ summary, onDone }: { summary: LifecycleSummary; onDone(): void }) {
  const act = useAction();
  const [acked, setAcked] = useState<string[]>([]);
  const name = (id: string) => summary.participants.find((p) => p.id === id)?.name ?? id;
  return (
    <Screen title="The script" lead="Each step is acknowledged by the people it names." testId="screen-lifecycle-steps">
      <ol>
        {summary.steps.map((s) => (
          <li key={s.id}>
            {s.text} <em>({s.ackBy.map(name).join(', ')})</em>{' '}
            {acked.includes(s.id) ? <span>acknowledged</span> : (
              <button type="button" className="secondary" disabled={act.busy} onClick={() => void act.run(async () => setAcked((await call(keyrite().lifecycleAcknowledge(s.id))).acknowledged))}>
                Acknowledge
              </button>
            )}
          </li>
        ))}
      </ol>
      <ErrorBox error={act.error} />
      <button type="button" disabled={acked.length < summary.steps.length} onClick={onDone}>Continue</button>
    </Screen>
  );
}

function SheetsDestroyed({ summary, onDone }: { summary: LifecycleSummary; onDone(): void }) {
  const act = useAction();
  const [gone, setGone] = useState<string[]>([]);
  return (
    <Screen
      title="Old sheets destroyed"
      lead={summary.kind === 'reshare'
        ? 'Re-sharing cannot take back the old shares: they still open every copy of the old backup/root.wrapped. Each holder of an old share destroys their sheet now, in front of the witnesses.'
        : 'Each custodian of a destroyed version destroys their sheet(s), in front of the witnesses.'}
      testId="screen-sheets-destroyed"
    >
      <ul>
        {summary.sheets.map((s) => (
          <li key={s.custodian}>
            {s.name}: {s.shares.join('; ')}{' '}
            {gone.includes(s.custodian) ? <span>destroyed</span> : (
              <button type="button" className="secondary" disabled={act.busy} onClick={() => void act.run(async () => setGone((await call(keyrite().lifecycleSheetDestroyed(s.custodian))).destroyed))}>
                {s.name} destroyed their sheet
              </button>
            )}
          </li>
        ))}
      </ul>
      <ErrorBox error={act.error} />
      <button type="button" disabled={gone.length < summary.sheets.length} onClick={onDone}>Continue</button>
    </Screen>
  );
}

function DestroyScreen({ summary, onDone }: { summary: LifecycleSummary; onDone(): void }) {
  const act = useAction();
  const [cert, setCert] = useState<DestructionSummary>();
  return (
    <Screen title="Destroy the versions" lead="Every object of each version is destroyed on the token, and a search must then find nothing." testId="screen-destroy">
      {cert ? (
        <>
          <ul data-testid="destroyed-versions">
            {cert.versions.map((v) => <li key={v.version}>version {v.version} '{v.label}': {v.objectsDestroyed} object(s) destroyed, {v.gone ? 'gone' : 'NOT gone'}</li>)}
          </ul>
          <h2>Where a copy may still exist</h2>
          <ul data-testid="copies-remaining">
            {cert.copiesRemaining.map((c, i) => <li key={i}><strong>{c.where}</strong>: {c.detail}</li>)}
          </ul>
          <button type="button" autoFocus onClick={onDone}>Continue</button>
        </>
      ) : (
        <>
          <ul>{summary.destroy!.versions.map((v) => <li key={v.version}>version {v.version} '{v.label}' ({v.algorithm}, {v.fingerprint}, ceremony {v.ceremonyId})</li>)}</ul>
          <ErrorBox error={act.error} />
          <button type="button" className="danger" disabled={act.busy} onClick={() => void act.run(async () => setCert(await call(keyrite().lifecycleDestroy())))}>
            Destroy now
          </button>
        </>
      )}
    </Screen>
  );
}

function LifecycleFinish({ summary, onDone }: { summary: LifecycleSummary; onDone(d: { bundleDir: string; statementSha256: string }): void }) {
  const act = useAction();
  return (
    <Screen title="Sign the record" lead={`A one-time signer in the HSM signs ${summary.id}'s statement and is destroyed right after.`} testId="screen-lifecycle-finish">
      <ErrorBox error={act.error} />
      <button type="button" autoFocus disabled={act.busy} onClick={() => void act.run(async () => onDone(await call(keyrite().lifecycleFinish())))}>
        Sign the record
      </button>
    </Screen>
  );
}

function StopLifecycle({ onStopped }: { onStopped(): void }) {
  const act = useAction();
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState('');
  if (!open) return <button type="button" className="danger stop" onClick={() => setOpen(true)}>Stop ceremony…</button>;
  return (
    <form className="panel stop-panel" role="dialog" aria-label="Stop the ceremony" onSubmit={(e) => { e.preventDefault(); void act.run(async () => { await call(keyrite().lifecycleAbort(reason)); onStopped(); }); }}>
      <Field label="Why are you stopping?">
        <textarea name="reason" rows={3} autoFocus required value={reason} onChange={(e) => setReason(e.target.value)} />
      </Field>
      <ErrorBox error={act.error} />
      <button type="submit" className="danger" disabled={!reason.trim() || act.busy}>Stop the ceremony</button>
      <button type="button" className="secondary" onClick={() => setOpen(false)}>Go on</button>
    </form>
  );
}
