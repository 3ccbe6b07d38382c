import { useEffect, useState } from 'react';
import type { PrinterSummary } from '../../../electron/api.ts';
import { call, keyrite } from '../../bridge.ts';
import { ErrorBox, Field, Screen, Term, useAction, focusOnMount } from '../../components/ui.tsx';
import { WordEntry } from '../../components/WordEntry.tsx';
import { useUi } from '../../store.ts';

const PDF = '__rehearsal_pdf__';

/**
 * One custodian at a time: their sheet goes from main straight to the printer, then they type their
 * words back from the paper to prove the sheet is readable and complete. The screen is cleared
 * before the next custodian steps up.
 */
export function CustodianScreen() {
  const { plan, shares, custodian, printed, confirmed, patch, setStep } = useUi();
  const [printers, setPrinters] = useState<PrinterSummary[]>();
  const [target, setTarget] = useState('');
  const act = useAction();
  const s = shares[custodian];

  useEffect(() => {
    void act.run(async () => {
      const list = await call(keyrite().listPrinters());
      setPrinters(list);
      setTarget((t) => t || list.find((p) => p.isDefault)?.name || list[0]?.name || (plan?.rehearsal ? PDF : ''));
    });
  }, []); // eslint-disable-line react-hooks/exhaustive-deps

  if (!s) return null;
  const isPrinted = printed[s.index] !== undefined;
  const isConfirmed = confirmed.includes(s.index);
  const last = custodian === shares.length - 1;

  return (
    <Screen title={`Share ${custodian + 1} of ${shares.length}: ${s.name}`} lead={`Group ${s.group}, member ${s.member}. Only ${s.name} should look at the screen and the sheet now.`} testId="screen-custodian">
      <ol className="substeps">
        <li className={isPrinted ? 'done' : 'current'}>Print the sheet</li>
        <li className={isConfirmed ? 'done' : isPrinted ? 'current' : ''}>Type the words back</li>
      </ol>
      {!isPrinted ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void act.run(async () => {
              const r = await call(keyrite().printSheet(s.index, target === PDF ? { pdf: true } : { printer: target }));
              patch({ printed: { ...useUi.getState().printed, [s.index]: r.output } });
            });
          }}
        >
          <Field label="Printer" hint="The sheet goes straight to the printer; its words are never shown on this screen.">
            <select name="printer" value={target} onChange={(e) => setTarget(e.target.value)}>
              {(printers ?? []).map((p) => (
                <option key={p.name} value={p.name}>
                  {p.displayName}
                  {p.isDefault ? ' (default)' : ''}
                </option>
              ))}
              {plan?.rehearsal ? <option value={PDF}>REHEARSAL ONLY: save as a PDF file instead</option> : null}
            </select>
          </Field>
          {printers && printers.length === 0 && !plan?.rehearsal ? <p className="warn">No printer found. Connect a printer (USB, no network) and choose “Look again”.</p> : null}
          <div className="actions">
            <button type="submit" disabled={act.busy || !target} autoFocus>
              Print {s.name}’s sheet
            </button>
          </div>
        </form>
      ) : !isConfirmed ? (
        <>
          <p className="ok" role="status">
            Printed to {printed[s.index]}. {s.name}, take your sheet and type your 33 words below, in order.
          </p>
          <WordEntry
            key={s.index}
            testId="confirm-words"
            label={`${s.name}’s share`}
            expected={33}
            busy={act.busy}
            onSubmit={async (words) => {
              const r = await act.run(() => call(keyrite().confirmShare(s.index, words)));
              if (r) patch({ confirmed: [...useUi.getState().confirmed, s.index] });
              return Boolean(r);
            }}
          />
        </>
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (last) setStep('test-recovery');
            else patch({ custodian: custodian + 1 });
          }}
        >
          <p className="ok" role="status" data-testid="share-confirmed">
            ✓ {s.name}’s share is confirmed: the words match its <Term term="check value">a short fingerprint of the share, recorded in the transcript</Term> {s.checkValue}.
          </p>
          <p>Fold the sheet, put it in its tamper-evident bag, and write the bag number on it. {last ? '' : 'Then let the next custodian step up.'}</p>
          <button type="submit" ref={focusOnMount}>
            {last ? 'All shares confirmed — continue' : 'Clear the screen for the next custodian'}
          </button>
        </form>
      )}
      <ErrorBox error={act.error} />
    </Screen>
  );
}
