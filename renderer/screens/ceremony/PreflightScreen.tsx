import { useEffect, useState } from 'react';
import type { CheckItem, PreflightSummary, PrinterSummary } from '../../../electron/api.ts';
import { call, keyrite } from '../../bridge.ts';
import { Busy, Checklist, ErrorBox, Field, Screen, useAction } from '../../components/ui.tsx';
import { useUi } from '../../store.ts';

/** Before anything is written: is the machine offline, is the token there, can it do what the plan needs? */
export function PreflightScreen() {
  const { plan, setStep } = useUi();
  const [report, setReport] = useState<PreflightSummary>();
  const [accepted, setAccepted] = useState(false);
  const act = useAction();
  const [printers, setPrinters] = useState<PrinterSummary[]>([]);
  const [queue, setQueue] = useState('');
  const [printer, setPrinter] = useState<{ queue: string; ok: boolean; checks: CheckItem[] }>();
  const runChecks = () => act.run(async () => setReport(await call(keyrite().preflight())));
  useEffect(() => void runChecks(), []); // eslint-disable-line react-hooks/exhaustive-deps
  useEffect(() => {
    void keyrite()
      .listPrinters()
      .then((r) => {
        if (!r.ok) return;
        setPrinters(r.value);
        setQueue((q) => q || r.value.find((p) => p.isDefault)?.name || r.value[0]?.name || '');
      });
  }, []);
  const checkPrinter = () => act.run(async () => setPrinter({ queue, ...(await call(keyrite().checkPrinter(queue))) }));
  // A production ceremony prints on a checked local printer, checked before the key is made.
  const printerReady = plan?.rehearsal || (printer?.ok === true && printer.queue === queue);

  const online = report?.network.online ?? false;
  return (
    <Screen title="Checks before we start" lead={`Ceremony “${plan?.title}”. Nothing has been written yet and the HSM has not been changed.`} testId="screen-preflight">
      <h2>Network</h2>
      {report ? (
        <>
          <p className={online ? 'warn' : 'ok'} role="status">
            {online
              ? 'This machine has a network connection. A ceremony machine should be offline (air-gapped). The app itself never connects; this is recorded in the transcript.'
              : 'No network interface is up: the machine is offline (air-gapped).'}
          </p>
          <table className="table" data-testid="interfaces">
            <thead>
              <tr>
                <th>Interface</th>
                <th>Status</th>
                <th>Addresses</th>
              </tr>
            </thead>
            <tbody>
              {report.network.interfaces.map((i) => (
                <tr key={i.name}>
                  <td>{i.name}</td>
                  <td>{i.internal ? 'loopback (this machine only)' : i.up ? 'UP — connected' : 'down'}</td>
                  <td>{i.addresses.join(', ') || '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2>HSM and plan</h2>
          <Checklist checks={report.checks} testId="preflight-checks" />
          <h2>Printer for the share sheets</h2>
          <p className="hint">
            The sheets go only to this printer. It must be attached to this machine (USB, parallel or serial) and CUPS must keep no copy of a printed job.
            {plan?.rehearsal ? ' (A rehearsal may also save the sheets as PDF files.)' : ''}
          </p>
          <Field label="Printer">
            <div className="row">
              <select name="check-printer" value={queue} onChange={(e) => setQueue(e.target.value)}>
                {printers.length ? null : <option value="">— no printer found —</option>}
                {printers.map((p) => (
                  <option key={p.name} value={p.name}>
                    {p.displayName} — {p.description}
                  </option>
                ))}
              </select>
              <button type="button" className="secondary" onClick={() => void checkPrinter()} disabled={act.busy || !queue}>
                Check the printer
              </button>
            </div>
          </Field>
          {printer ? <Checklist checks={printer.checks} testId="printer-checks" /> : null}
        </>
      ) : (
        <Busy text="Checking…" />
      )}
      <ErrorBox error={act.error} />
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void act.run(async () => {
            await call(keyrite().begin(online && accepted));
            useUi.getState().patch({ bundleDir: plan?.bundleDir });
            setStep('checkin');
          });
        }}
      >
        {online ? (
          <label className="check">
            <input type="checkbox" name="accept-online" checked={accepted} onChange={(e) => setAccepted(e.target.checked)} /> We know this machine is connected and
            continue anyway.
          </label>
        ) : null}
        <div className="actions">
          <button type="submit" disabled={act.busy || !report?.ok || (online && !accepted) || !printerReady}>
            Start the ceremony
          </button>
          <button type="button" className="secondary" onClick={() => void runChecks()} disabled={act.busy}>
            Check again
          </button>
        </div>
        <p className="hint">Starting creates the bundle folder {plan?.bundleDir} and begins the transcript (the signed record of everything that happens).</p>
      </form>
    </Screen>
  );
}
