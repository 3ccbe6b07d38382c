import { useRef, useState } from 'react';
import type { Chosen, RecoveryPlanInfo, RecoveryProgress, RecoveryResult } from '../../electron/api.ts';
import { Chooser } from '../components/Chooser.tsx';
import { TokenPicker, useTokenChoice } from '../components/TokenPicker.tsx';
import { call, keyrite } from '../bridge.ts';
import { Busy, ErrorBox, Field, Screen, useAction } from '../components/ui.tsx';
import { WordEntry } from '../components/WordEntry.tsx';
import { useUi } from '../store.ts';

/** Restores the root key into a token: bundle and token, then shares one by one, then the PIN. */
export function Recover() {
  const { go, progress: progressText } = useUi();
  const [bundle, setBundle] = useState<Chosen>();
  const choice = useTokenChoice();
  const { module, moduleArgs, token } = choice;
  const [label, setLabel] = useState('');
  const [info, setInfo] = useState<RecoveryPlanInfo>();
  const [progress, setProgress] = useState<RecoveryProgress>();
  const [accepted, setAccepted] = useState(0);
  const [result, setResult] = useState<RecoveryResult>();
  const pin = useRef<HTMLInputElement>(null);
  const pass = useRef<HTMLInputElement>(null);
  const act = useAction();

  const back = (
    <button
      type="button"
      className="link"
      onClick={() => {
        void keyrite().recoverCancel();
        go('start');
      }}
    >
      ← Back to the start
    </button>
  );

  if (result)
    return (
      <Screen title="The key is restored" testId="screen-recover-done">
        <dl className="facts" data-testid="recover-result">
          <dt>Label</dt>
          <dd>{result.label}</dd>
          <dt>Fingerprint</dt>
          <dd className="mono">{result.fingerprint}</dd>
          <dt>Same key as the ceremony's</dt>
          <dd>{result.sameKey ? 'yes — proven inside the HSM' : 'NO'}</dd>
          <dt>Recovery record</dt>
          <dd className="mono">{result.transcriptDir ?? '—'}</dd>
        </dl>
        {back}
      </Screen>
    );

  if (!info)
    return (
      <Screen title="Recover from shares" lead="You need the ceremony's bundle folder, a new token (HSM) and enough custodians with their sheets." testId="screen-recover">
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (!token) return;
            void act.run(async () =>
              setInfo(
                await call(
                  keyrite().recoverStart({
                    bundle: bundle!.handle,
                    module,
                    tokenLabel: token.label,
                    ...(token.serialNumber ? { tokenSerial: token.serialNumber } : {}),
                    ...(label.trim() ? { label: label.trim() } : {}),
                    ...(moduleArgs ? { moduleArgs } : {}),
                  }),
                ),
              ),
            );
          }}
        >
          <Field label="Bundle folder">
            <Chooser name="bundle" value={bundle} button="Choose the bundle folder…" onChoose={() => void act.run(async () => { const d = await call(keyrite().chooseFolder('bundle')); if (d) setBundle(d); })} />
          </Field>
          <TokenPicker
            choice={choice}
            run={act.run}
            names={{ module: 'module', token: 'token' }}
            moduleLabel="PKCS#11 module"
            moduleHint="The HSM vendor's library file (PKCS#11 is the standard way programs talk to HSMs)."
            tokenLabel="Token to restore into"
          />
          <Field
            label="Restore under another label (optional)"
            hint="Empty: the key gets the ceremony's label. Use this when that label is already taken on the token (the same as --label on the command line)."
          >
            <input name="label" value={label} onChange={(e) => setLabel(e.target.value)} spellCheck={false} />
          </Field>
          <ErrorBox error={act.error} />
          <div className="actions">
            <button type="submit" disabled={act.busy || !bundle || !token}>
              Start entering shares
            </button>
            {back}
          </div>
        </form>
      </Screen>
    );

  const complete = progress?.complete ?? false;
  return (
    <Screen
      title={complete ? 'Enough shares — restore the key' : `Enter share ${accepted + 1}`}
      lead={`Ceremony “${info.ceremonyId}”, root key “${info.root.label}” (${info.root.algorithm})${info.targetLabel !== info.root.label ? `, restored as “${info.targetLabel}”` : ''}. Needed: ${info.groupThreshold} group(s); ${info.groups.map((g) => `group ${g.group}: ${g.threshold} of ${g.count}`).join(', ')}.`}
      testId="screen-recover-shares"
    >
      <ul className="groups" data-testid="group-progress">
        {info.groups.map((g) => {
          const have = progress?.groups.find((x) => x.group === g.group)?.have ?? 0;
          return (
            <li key={g.group} className={have >= g.threshold ? 'done' : ''}>
              Group {g.group}: {have} of {g.threshold} shares {have >= g.threshold ? '✓' : ''}
            </li>
          );
        })}
      </ul>
      {progress ? (
        <p className="ok" role="status">
          Share accepted (group {progress.group}, member {progress.member}){progress.used ? '' : ' but not needed'}. {progress.needs ? `Still needed: ${progress.needs}.` : ''}
        </p>
      ) : null}
      {!complete ? (
        <WordEntry
          key={accepted}
          testId="recover-words"
          label={`Share ${accepted + 1}`}
          busy={act.busy}
          onSubmit={async (words) => {
            const r = await act.run(() => call(keyrite().recoverAddShare(words)));
            if (r) {
              setProgress(r);
              setAccepted((n) => n + 1);
            }
            return Boolean(r);
          }}
        />
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            const p = pin.current!.value;
            const pp = pass.current?.value || undefined;
            pin.current!.value = '';
            if (pass.current) pass.current.value = '';
            void act.run(async () => setResult(await call(keyrite().recoverRestore(p, pp))));
          }}
        >
          <Field label={`User PIN of token “${token?.label ?? ''}”`} hint="Not shown, not stored.">
            <input ref={pin} type="password" name="pin" autoComplete="off" autoFocus />
          </Field>
          {info.passphrase ? (
            <Field label="Backup passphrase">
              <input ref={pass} type="password" autoComplete="off" />
            </Field>
          ) : null}
          <button type="submit" disabled={act.busy}>
            Restore the key
          </button>
        </form>
      )}
      <Busy text={act.busy ? progressText ?? 'Working…' : undefined} />
      <ErrorBox error={act.error} />
      {back}
    </Screen>
  );
}
