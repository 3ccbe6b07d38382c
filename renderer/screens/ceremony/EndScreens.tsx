import { useRef, useState } from 'react';
import type { ExportSummary } from '../../../electron/api.ts';
import { call, keyrite } from '../../bridge.ts';
import { Busy, ErrorBox, Field, Screen, useAction, focusOnMount } from '../../components/ui.tsx';
import { useUi } from '../../store.ts';
import { StatementDigest } from './CosignScreen.tsx';

/** Proves the backup works before anyone leaves the room. */
export function TestRecoveryScreen() {
  const { plan, progress, setStep } = useUi();
  const pass = useRef<HTMLInputElement>(null);
  const [result, setResult] = useState<{ ok: boolean; detail: string }>();
  const act = useAction();
  return (
    <Screen
      title="Test the backup"
      lead="Keyrite combines the minimum number of confirmed shares, checks the backup key, and unwraps the backed-up root key inside the HSM to show it is the same key. The test copy is destroyed right after."
      testId="screen-test-recovery"
    >
      {!result ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            const passphrase = pass.current?.value || undefined;
            if (pass.current) pass.current.value = '';
            void act.run(async () => setResult(await call(keyrite().testRecovery(passphrase))));
          }}
        >
          {plan?.backup.passphrase ? (
            <Field label="Backup passphrase">
              <input ref={pass} type="password" autoComplete="off" />
            </Field>
          ) : null}
          <button type="submit" disabled={act.busy} autoFocus>
            Run the test recovery
          </button>
        </form>
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            setStep('exports');
          }}
        >
          <p className={result.ok ? 'ok' : 'error'} role="status" data-testid="recovery-result">
            {result.ok ? '✓ The backup works: ' : '✗ The test failed: '}
            {result.detail}
          </p>
          <button type="submit" ref={focusOnMount}>
            Continue
          </button>
        </form>
      )}
      <Busy text={act.busy ? progress ?? 'Testing…' : undefined} />
      <ErrorBox error={act.error} />
    </Screen>
  );
}

/** Wraps the root key for each online KMS named in the plan. */
export function ExportsScreen() {
  const { plan, setStep } = useUi();
  const [done, setDone] = useState<ExportSummary[]>();
  const act = useAction();
  const n = plan?.exports.length ?? 0;
  return (
    <Screen
      title="Exports for the online KMS"
      lead={n ? `The root key is wrapped inside the HSM for ${n} target(s): ${plan!.exports.map((e) => `${e.name} (${e.kind})`).join(', ')}.` : 'The plan names no export targets; this step only records that.'}
      testId="screen-exports"
    >
      {!done ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void act.run(async () => setDone(await call(keyrite().runExports())));
          }}
        >
          <button type="submit" disabled={act.busy} autoFocus>
            {n ? 'Write the exports' : 'Continue'}
          </button>
        </form>
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            setStep('finish');
          }}
        >
          <ul data-testid="exports-done">
            {done.map((x) => (
              <li key={x.target}>
                ✓ <strong>{x.target}</strong> ({x.kind}, {x.algorithm}): {x.files.map((f) => f.path).join(', ')}
              </li>
            ))}
          </ul>
          <button type="submit" ref={focusOnMount}>
            Continue
          </button>
        </form>
      )}
      <ErrorBox error={act.error} />
    </Screen>
  );
}

/** Seal (if planned), sign the transcript with the HSM, and show where everything is. */
export function FinishScreen() {
  const { plan, setStep, patch } = useUi();
  const act = useAction();
  return (
    <Screen
      title="Seal and sign"
      lead={`${plan?.key.sealAfterExport ? 'The root key is made non-extractable (sealed), then ' : ''}the transcript is closed and signed inside the HSM, and the report is written. After this nothing can be added.`}
      testId="screen-finish"
    >
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void act.run(async () => {
            const r = await call(keyrite().finish());
            patch({ finished: r });
            setStep('cosign');
          });
        }}
      >
        <button type="submit" disabled={act.busy} autoFocus>
          Seal and sign the ceremony
        </button>
      </form>
      <ErrorBox error={act.error} />
    </Screen>
  );
}

export function SummaryScreen() {
  const { plan, root, log, finished } = useUi();
  return (
    <Screen title="The ceremony is complete" lead="Everything below is also in the bundle's report.html." testId="screen-summary">
      <dl className="facts" data-testid="summary-facts">
        <dt>Ceremony</dt>
        <dd>{plan?.title}</dd>
        <dt>Bundle folder</dt>
        <dd className="mono" data-testid="bundle-dir">
          {finished?.bundleDir}
        </dd>
        <dt>Root key</dt>
        <dd>
          {root?.label} ({root?.algorithm})
        </dd>
        <dt>Root fingerprint</dt>
        <dd className="mono">{root?.fingerprint}</dd>
        <dt>Transcript chain head</dt>
        <dd className="mono">{finished?.chainHead}</dd>
        <dt>Statement digest</dt>
        <dd>{finished ? <StatementDigest sha256={finished.statementSha256} /> : null}</dd>
        {finished?.signers.map((s) => (
          <div key={s.keyid} className="pair">
            <dt>Signed by ({s.role === 'root' ? 'the root key itself' : 'the one-time ceremony signing key, now destroyed'})</dt>
            <dd className="mono">{s.keyid}</dd>
          </div>
        ))}
      </dl>
      <p>
        Copy the bundle folder to the archive media. Auditors check it with “Verify a bundle” or <code>keyrite verify</code>.{' '}
        <span data-testid="summary-events">
          The transcript holds {log.length} events (seq {log[0]?.seq ?? 0} to {log.at(-1)?.seq ?? 0}); the chain head above covers all of them, the last being the completion event, and is what the signatures sign.
        </span>
      </p>
    </Screen>
  );
}

/** The recorded advice, with each `command` in it set apart so it can be read out and typed exactly. */
function Advice({ text }: { text: string }) {
  const parts = text.split('`');
  return (
    <>
      {parts.map((p, i) =>
        i % 2 === 1 ? (
          <code key={i} className="command" data-testid="stop-command">
            {p}
          </code>
        ) : (
          <span key={i}>{p}</span>
        ),
      )}
    </>
  );
}

export function StoppedScreen() {
  const { plan, stoppedReason, stoppedAdvice, go, reset } = useUi();
  const advice = stoppedAdvice ?? '';
  return (
    <Screen title="The ceremony was stopped" lead="The transcript records where and why it stopped. A stopped ceremony is never reported as done." testId="screen-stopped">
      {advice ? (
        <div className="next-step" role="alert" data-testid="stop-advice">
          <h2>What to do now</h2>
          <p>
            <Advice text={advice.startsWith('`') ? advice : advice.charAt(0).toUpperCase() + advice.slice(1)} />.
          </p>
          {advice.includes('`') ? <p>Until then, anything this ceremony made stays in the HSM.</p> : null}
        </div>
      ) : null}
      <p>
        Reason recorded: <strong>{stoppedReason}</strong>
      </p>
      <p>Bundle folder (incomplete): {plan?.bundleDir}</p>
      <button
        type="button"
        autoFocus
        onClick={() => {
          reset();
          go('start');
        }}
      >
        Back to the start
      </button>
    </Screen>
  );
}
