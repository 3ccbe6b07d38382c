/**
 * The share screens of a re-share (docs/lifecycle.md): the current custodians enter their old
 * shares, the new sheets are printed on a checked printer (a rehearsal writes them as files) and
 * each new custodian types their words back, then the new backup is test-recovered. Words live only in WordEntry and go to
 * main one way; the page keeps who entered what (custodian, group, member), never the words.
 */
import { useState } from 'react';
import type { CheckItem, LifecycleSummary, OldShareAccepted, PrinterSummary, ShareSlot } from '../../../electron/api.ts';
import { call, keyrite } from '../../bridge.ts';
import { Checklist, ErrorBox, Screen, useAction } from '../../components/ui.tsx';
import { WordEntry } from '../../components/WordEntry.tsx';

/** 33 words: Keyrite's backup key is 256 bits. */
const WORDS = 33;

export function OldSharesScreen({ summary, onDone }: { summary: LifecycleSummary; onDone(): void }) {
  const r = summary.reshare!;
  const [accepted, setAccepted] = useState<OldShareAccepted[]>([]);
  const act = useAction();
  const need = r.groups.slice(0, r.groupThreshold).reduce((n, g) => n + g.threshold, 0);
  return (
    <Screen
      title="The current custodians enter their shares"
      lead={`A threshold of the shares of set ${r.identifier} (version ${r.version}, ceremony ${r.fromCeremony}) opens the current backup. They are checked here, before the HSM is touched.`}
      testId="screen-old-shares"
    >
      <ul data-testid="old-shares-entered">
        {accepted.map((a) => (
          <li key={`${a.group}-${a.member}`}>
            {a.custodian}: group {a.group}, member {a.member} accepted
          </li>
        ))}
      </ul>
      <WordEntry
        key={accepted.length}
        expected={WORDS}
        busy={act.busy}
        label={`Old share ${accepted.length + 1}`}
        testId="old-share-words"
        onSubmit={async (words) => {
          const a = await act.run(() => call(keyrite().lifecycleOldShare(words)));
          if (a) setAccepted((x) => [...x, a]);
          return Boolean(a);
        }}
      />
      <ErrorBox error={act.error} />
      <div className="actions">
        <button
          type="button"
          disabled={act.busy || accepted.length === 0}
          onClick={() =>
            void act.run(async () => {
              try {
                await call(keyrite().lifecycleCheckOldShares());
              } catch (e) {
                setAccepted([]);
                throw e;
              }
              onDone();
            })
          }
        >
          Check the old shares ({accepted.length} of at least {need})
        </button>
      </div>
    </Screen>
  );
}

export function NewSharesScreen({ summary, onDone }: { summary: LifecycleSummary; onDone(): void }) {
  const [shares, setShares] = useState<ShareSlot[]>();
  const [sheets, setSheets] = useState<{ folder: string; files: string[] }>();
  const [confirmed, setConfirmed] = useState<number[]>([]);
  const [printers, setPrinters] = useState<PrinterSummary[]>();
  /** Production: the queue that passed its checks, and the shares printed on it. */
  const [queue, setQueue] = useState<string>();
  const [checks, setChecks] = useState<CheckItem[]>();
  const [printed, setPrinted] = useState<number[]>([]);
  const act = useAction();
  const production = !summary.rehearsal;
  const next = shares?.find((s) => !confirmed.includes(s.index));
  const layout = summary.reshare!.newLayout;
  if (!shares)
    return (
      <Screen
        title="Make the new backup"
        lead={`The root is unwrapped inside the HSM, wrapped again under a new backup key, and the new key is split for the new layout (${layout.groups.map((g) => `${g.threshold} of ${g.count}`).join(', ')}; ${layout.groupThreshold} group(s) needed).`}
        testId="screen-rewrap"
      >
        {production ? (
          <>
            <h2>The printer</h2>
            <p>The new sheets are printed on a local printer that passes its checks before the new backup key is made.</p>
            {printers ? (
              <div className="actions">
                {printers.map((p) => (
                  <button
                    key={p.name}
                    type="button"
                    className="secondary"
                    disabled={act.busy}
                    onClick={() =>
                      void act.run(async () => {
                        const r = await call(keyrite().lifecycleCheckPrinter(p.name));
                        setChecks(r.checks);
                        setQueue(r.ok ? p.name : undefined);
                      })
                    }
                  >
                    Check {p.displayName || p.name}
                  </button>
                ))}
              </div>
            ) : (
              <button type="button" className="secondary" disabled={act.busy} onClick={() => void act.run(async () => setPrinters(await call(keyrite().listPrinters())))}>
                Find printers
              </button>
            )}
            {checks ? <Checklist checks={checks} testId="lifecycle-printer-checks" /> : null}
          </>
        ) : null}
        <ErrorBox error={act.error} />
        <div className="actions">
          <button type="button" disabled={act.busy || (production && !queue)} onClick={() => void act.run(async () => setShares(await call(keyrite().lifecycleRewrap())))}>
            Make the new backup
          </button>
        </div>
      </Screen>
    );
  if (!sheets && !production)
    return (
      <Screen title="The new sheets" lead="A rehearsal writes the new sheets as files next to the bundle, marked REHEARSAL." testId="screen-new-sheets">
        <ul>
          {shares.map((s) => (
            <li key={s.index}>
              {s.name}: group {s.group}, member {s.member}, check value <code>{s.checkValue}</code>
            </li>
          ))}
        </ul>
        <ErrorBox error={act.error} />
        <div className="actions">
          <button type="button" autoFocus disabled={act.busy} onClick={() => void act.run(async () => setSheets(await call(keyrite().lifecycleWriteSheets())))}>
            Write the rehearsal sheets
          </button>
        </div>
      </Screen>
    );
  if (next && production && !printed.includes(next.index))
    return (
      <Screen title={`${next.name}: your new sheet`} lead={`Group ${next.group}, member ${next.member}, check value ${next.checkValue}. The sheet goes from the app straight to ${queue}.`} testId="screen-new-print">
        <ErrorBox error={act.error} />
        <button
          type="button"
          autoFocus
          disabled={act.busy}
          onClick={() =>
            void act.run(async () => {
              await call(keyrite().lifecyclePrintSheet(next.index, queue!));
              setPrinted((x) => [...x, next.index]);
            })
          }
        >
          Print {next.name}'s sheet
        </button>
      </Screen>
    );
  if (next)
    return (
      <Screen
        title={`${next.name}: type your new share`}
        lead={`${sheets ? `Sheets are in the folder ${sheets.folder}. ` : ''}Type the words of group ${next.group}, member ${next.member} from your sheet.`}
        testId="screen-new-confirm"
      >
        <WordEntry
          key={next.index}
          expected={WORDS}
          busy={act.busy}
          label={`${next.name}'s share`}
          testId="new-share-words"
          onSubmit={async (words) => {
            const r = await act.run(() => call(keyrite().lifecycleConfirmShare(next.index, words)));
            if (r) setConfirmed((c) => [...c, next.index]);
            return Boolean(r);
          }}
        />
        <ErrorBox error={act.error} />
      </Screen>
    );
  return (
    <Screen title="Test the new shares" lead="A threshold of the new shares must open the new root.wrapped inside the HSM, and it must be the root." testId="screen-new-test">
      <p data-testid="new-confirmed">{confirmed.length} new share(s) confirmed.</p>
      <ErrorBox error={act.error} />
      <div className="actions">
        <button
          type="button"
          autoFocus
          disabled={act.busy}
          onClick={() =>
            void act.run(async () => {
              await call(keyrite().lifecycleTestRecovery());
              onDone();
            })
          }
        >
          Test-recover the new shares
        </button>
      </div>
    </Screen>
  );
}
