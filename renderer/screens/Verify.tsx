import { useState } from 'react';
import type { Chosen, VerifySummary } from '../../electron/api.ts';
import { Chooser } from '../components/Chooser.tsx';
import { call, keyrite } from '../bridge.ts';
import { Checklist, ErrorBox, Field, Screen, useAction } from '../components/ui.tsx';
import { useUi } from '../store.ts';

/** The auditor's view: the checklist of `keyrite verify` and the transcript as a readable timeline. */
export function Verify() {
  const { go } = useUi();
  const [dir, setDir] = useState<Chosen>();
  const [report, setReport] = useState<VerifySummary>();
  const act = useAction();
  return (
    <Screen title="Verify a bundle" lead="A bundle is the folder a ceremony wrote. Verifying needs no HSM and changes nothing." testId="screen-verify">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void act.run(async () => setReport(await call(keyrite().verifyBundle(dir!.handle))));
        }}
      >
        <Field label="Bundle folder">
          <Chooser name="bundle" value={dir} button="Choose the bundle folder…" onChoose={() => void act.run(async () => { const d = await call(keyrite().chooseFolder('bundle')); if (d) setDir(d); })} />
        </Field>
        <div className="actions">
          <button type="submit" disabled={act.busy || !dir}>
            Verify
          </button>
          <button type="button" className="link" onClick={() => go('start')}>
            ← Back to the start
          </button>
        </div>
      </form>
      <ErrorBox error={act.error} />
      {report ? (
        <>
          <p className={report.valid ? 'ok big' : 'error big'} role="status" data-testid="verify-verdict">
            {report.valid ? (report.verdict === 'VALID (REHEARSAL)' ? '✓ The bundle is valid — a REHEARSAL, never to be imported.' : '✓ The bundle is valid.') : report.verdict.startsWith('INCOMPLETE') ? `✗ The ceremony did not complete (${report.verdict.replace(/^INCOMPLETE:\s*/, '')}).` : '✗ The bundle is NOT valid: see the failed checks below.'}
          </p>
          {report.warnings.length ? (
            <>
              <h2>Warnings</h2>
              <ul className="warnings" data-testid="verify-warnings">
                {report.warnings.map((w) => (
                  <li key={w}>{w}</li>
                ))}
              </ul>
            </>
          ) : null}
          <h2>Checks</h2>
          <Checklist checks={report.checks} testId="verify-checks" />
          <h2>What happened ({report.timeline.length} events)</h2>
          <ol className="timeline" data-testid="timeline">
            {report.timeline.map((e) => (
              <li key={e.seq}>
                <span className="seq">seq {e.seq}</span>
                <span className="time">{e.time.replace('T', ' ').replace('Z', ' UTC')}</span>
                <span className="who">{e.actor}</span>
                <span>{e.summary}</span>
              </li>
            ))}
          </ol>
        </>
      ) : null}
    </Screen>
  );
}
