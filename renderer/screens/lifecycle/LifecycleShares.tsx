/**
 * The share screens of a re-share (docs/lifecycle.md): the current custodians enter their old
 * shares, the new sheets are made (rehearsal files in this release) and each new custodian types
 * their words back, then the new backup is test-recovered. Words live only in WordEntry and go to
 * main one way; the page keeps who entered what (custodian, group, member), never the words.
 */
import { useState } from 'react';
import type { LifecycleSummary, OldShareAccepted, ShareSlot } from '../../../electron/api.ts';
import { call, keyrite } from '../../bridge.ts';
import { ErrorBox, Screen, useAction } from '../../components/ui.tsx';
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
  const act = useAction();
  const next = shares?.find((s) => !confirmed.includes(s.index));
  const layout = summary.reshare!.newLayout;
  if (!shares)
    return (
      <Screen
        title="Make the new backup"
        lead={`The root is unwrapped inside the HSM, wrapped again under a new backup key, and the new key is split for the new layout (${layout.groups.map((g) => `${g.threshold} of ${g.count}`).join(', ')}; ${layout.groupThreshold} group(s) needed).`}
        testId="screen-rewrap"
      >
        <ErrorBox error={act.error} />
        <div className="actions">
          <button type="button" autoFocus disabled={act.busy} onClick={() => void act.run(async () => setShares(await call(keyrite().lifecycleRewrap())))}>
            Make the new backup
          </button>
        </div>
      </Screen>
    );
  if (!sheets)
    return (
      <Screen title="The new sheets" lead="This release writes a re-share's new sheets as rehearsal files next to the bundle (no paper printing yet)." testId="screen-new-sheets">
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
  if (next)
    return (
      <Screen title={`${next.name}: type your new share`} lead={`Sheets are in the folder ${sheets.folder}. Type the words of group ${next.group}, member ${next.member} from your sheet.`} testId="screen-new-confirm">
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
