import { useRef, useState } from 'react';
import type { CheckItem } from '../../../electron/api.ts';
import { call, keyrite } from '../../bridge.ts';
import { Busy, Checklist, ErrorBox, Field, Screen, Term, useAction, focusOnMount } from '../../components/ui.tsx';
import { useUi } from '../../store.ts';

/** The token's user PIN: typed into a password box, sent once, then cleared. It never comes back. */
export function PinScreen() {
  const { plan, setStep } = useUi();
  const input = useRef<HTMLInputElement>(null);
  const [hasPin, setHasPin] = useState(false);
  const [checks, setChecks] = useState<CheckItem[]>();
  const act = useAction();
  return (
    <Screen
      title="Unlock the HSM"
      lead={`The administrator types the user PIN of token “${plan?.hsm.tokenLabel ?? plan?.hsm.tokenSerial}”${plan?.hsm.slot !== undefined ? ` in slot ${plan.hsm.slot}` : ''}${plan?.hsm.initArgs ? ' (module started with the plan’s parameters)' : ''}. It is not shown, not stored and not written anywhere.`}
      testId="screen-pin"
    >
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const el = input.current!;
          const pin = el.value;
          // Cleared before the call returns: the PIN lives in this box only until it is sent.
          el.value = '';
          setHasPin(false);
          void act.run(async () => {
            setChecks((await call(keyrite().login(pin))).checks);
          });
        }}
      >
        <Field label="User PIN" hint="Press Enter when done. After several wrong PINs the token locks itself.">
          <input ref={input} type="password" name="pin" autoComplete="off" autoFocus onChange={(e) => setHasPin(e.target.value.length > 0)} disabled={act.busy || Boolean(checks)} />
        </Field>
        {!checks ? (
          <button type="submit" disabled={act.busy || !hasPin}>
            Unlock
          </button>
        ) : null}
      </form>
      <Busy text={act.busy ? 'Logging in and testing the token…' : undefined} />
      <ErrorBox error={act.error} />
      {checks ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            setStep('generate');
          }}
        >
          <p className="ok">The token is unlocked and passed its checks:</p>
          <Checklist checks={checks} testId="login-checks" />
          <button type="submit" ref={focusOnMount}>
            Continue to key generation
          </button>
        </form>
      ) : null}
    </Screen>
  );
}

/** Key generation, then the backup key split into shares. */
export function GenerateScreen() {
  const { plan, root, progress, patch, setStep } = useUi();
  const pass = useRef<HTMLInputElement>(null);
  const repeat = useRef<HTMLInputElement>(null);
  // Only whether the two boxes differed: never the passphrase itself.
  const [mismatch, setMismatch] = useState(false);
  const act = useAction();
  const isAes = plan?.key.algorithm === 'aes-256';
  return (
    <Screen title={root ? 'The root key exists' : 'Generate the root key'} lead={root ? undefined : `Algorithm ${plan?.key.algorithm}, label “${plan?.key.label}”. The key is made inside the HSM and never leaves it unprotected.`} testId="screen-generate">
      {!root ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void act.run(async () => patch({ root: await call(keyrite().generate()) }));
          }}
        >
          <button type="submit" disabled={act.busy} autoFocus>
            Generate the root key
          </button>
        </form>
      ) : (
        <>
          <dl className="facts" data-testid="root-facts">
            <dt>Label</dt>
            <dd>{root.label}</dd>
            <dt>Algorithm</dt>
            <dd>{root.algorithm}</dd>
            <dt>{isAes ? <Term term="KCV">key check value: a short fingerprint of the key</Term> : 'Fingerprint'}</dt>
            <dd className="mono" data-testid="root-fingerprint">
              {root.fingerprint}
            </dd>
          </dl>
          <p className="hint">{isAes ? 'Everyone can compare this KCV later.' : 'The fingerprint is the SHA-256 of the public key; write it down or compare it with the printed sheets.'}</p>
          <h2>Backup</h2>
          <p>
            Next, a random backup key is made and split into {plan?.custodians.length} shares, one per custodian. Any {plan?.backup.groups.map((g) => g.threshold).join(' / ')}{' '}
            of them can restore the root key (SLIP-39 Shamir sharing).
          </p>
          <form
            onSubmit={(e) => {
              e.preventDefault();
              const passphrase = pass.current?.value || undefined;
              const again = repeat.current?.value || undefined;
              // Read and cleared in this handler: the passphrase is kept nowhere but the request to main.
              if (pass.current) pass.current.value = '';
              if (repeat.current) repeat.current.value = '';
              if (plan?.backup.passphrase && passphrase !== again) {
                // A typo here would make every share useless, so it must be typed the same twice.
                setMismatch(true);
                pass.current?.focus();
                return;
              }
              setMismatch(false);
              void act.run(async () => {
                const shares = await call(keyrite().backup(passphrase));
                patch({ shares, custodian: 0 });
                setStep('custodians');
              });
            }}
          >
            {plan?.backup.passphrase ? (
              <>
                <Field label="Backup passphrase" hint="The plan asks for a passphrase. It is needed, with the shares, for every recovery. It is not stored.">
                  <input ref={pass} type="password" name="passphrase" autoComplete="off" />
                </Field>
                <Field label="Repeat the backup passphrase" hint="Typed twice so that a typo cannot lock the backup away.">
                  <input ref={repeat} type="password" name="passphrase-repeat" autoComplete="off" />
                </Field>
                {mismatch ? (
                  <p className="error" role="alert" data-testid="passphrase-mismatch">
                    The two passphrases differ. Type the passphrase again in both boxes.
                  </p>
                ) : null}
              </>
            ) : null}
            <button type="submit" disabled={act.busy} autoFocus>
              Create the backup shares
            </button>
          </form>
        </>
      )}
      <Busy text={act.busy ? progress ?? 'Working inside the HSM…' : undefined} />
      <ErrorBox error={act.error} />
    </Screen>
  );
}
