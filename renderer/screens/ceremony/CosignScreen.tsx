import { useRef, useState } from 'react';
import type { CosignSummary, PrinterSummary } from '../../../electron/api.ts';
import { pgpWordsOfHex } from '../../../electron/core/transcript/pgp-words.ts';
import { call, keyrite } from '../../bridge.ts';
import { Busy, ErrorBox, Field, Screen, useAction } from '../../components/ui.tsx';
import { TokenPicker, useTokenChoice } from '../../components/TokenPicker.tsx';
import { useUi } from '../../store.ts';

/** The statement digest as it is read aloud: hex in groups of four, then the 32 PGP words. */
export function StatementDigest({ sha256 }: { sha256: string }) {
  const groups = sha256.match(/.{4}/g) ?? [];
  return (
    <div className="digest" data-testid="statement-digest">
      <p className="mono" data-testid="statement-hex">
        {groups.slice(0, 8).join(' ')}
        <br />
        {groups.slice(8).join(' ')}
      </p>
      <p className="words" data-testid="statement-words">
        {pgpWordsOfHex(sha256).join(' ')}
      </p>
    </div>
  );
}

/** What CosignScreen signs when it is not the generate wizard's (whose facts are in the store). */
export interface CosignTarget {
  participants?: { id: string; name: string; role: string }[];
  statementSha256?: string;
  rehearsal?: boolean;
  onContinue?: () => void;
}

/**
 * The end of the ceremony: the statement digest is read aloud and written on paper, then each
 * witness (and the administrator, if they wish) connects their own token, enters their PIN and
 * co-signs. The PIN field is cleared as it is sent; nothing returned holds it.
 */
export function CosignScreen(props: CosignTarget = {}) {
  const ui = useUi();
  // A re-share or destruction passes its own bundle's facts; the generate wizard's come from the store.
  const participants = props.participants ?? ui.plan?.participants ?? [];
  const statementSha256 = props.statementSha256 ?? ui.finished?.statementSha256;
  const rehearsal = props.rehearsal ?? ui.plan?.rehearsal;
  const onContinue = props.onContinue ?? (() => ui.setStep('summary'));
  const signers = participants.filter((p) => p.role === 'witness' || p.role === 'administrator');
  const [done, setDone] = useState<CosignSummary[]>([]);
  const pending = signers.filter((p) => !done.some((d) => d.participant === p.id));
  const [participant, setParticipant] = useState('');
  const choice = useTokenChoice();
  const { module, moduleArgs, token, setPick, setTokens } = choice;
  const [keyLabel, setKeyLabel] = useState('');
  const [printers, setPrinters] = useState<PrinterSummary[]>();
  const [printed, setPrinted] = useState<string>();
  const pin = useRef<HTMLInputElement>(null);
  const act = useAction();
  const who = participant || pending[0]?.id || '';

  return (
    <Screen
      title="Read the statement aloud, then co-sign"
      lead="The signed statement's digest is below. One person reads it aloud, the others check it and write it on the attestation. Then each witness connects their own token and adds their signature to the bundle."
      testId="screen-cosign"
    >
      {statementSha256 ? <StatementDigest sha256={statementSha256} /> : null}

      <h2>Co-signatures</h2>
      <ul data-testid="cosigners">
        {signers.map((p) => {
          const d = done.find((x) => x.participant === p.id);
          return (
            <li key={p.id} data-testid={`cosigner-${p.id}`}>
              {d ? '✓' : '○'} <strong>{p.name}</strong> ({p.role}){d ? <span className="mono"> key {d.keyid}</span> : ' — not signed yet'}
            </li>
          );
        })}
      </ul>

      {pending.length ? (
        <form
          data-testid="cosign-form"
          onSubmit={(e) => {
            e.preventDefault();
            const el = pin.current;
            if (!el || !token || !who) return;
            const value = el.value;
            el.value = '';
            void act.run(async () => {
              const r = await call(
                keyrite().cosign(
                  {
                    participant: who,
                    module,
                    tokenLabel: token.label,
                    ...(token.serialNumber ? { tokenSerial: token.serialNumber } : {}),
                    ...(keyLabel.trim() ? { keyLabel: keyLabel.trim() } : {}),
                    ...(moduleArgs ? { moduleArgs } : {}),
                  },
                  value,
                ),
              );
              setDone((list) => [...list, r]);
              setParticipant('');
              setTokens(undefined);
              setPick('');
              setKeyLabel('');
            });
          }}
        >
          <Field label="Who signs now">
            <select name="participant" value={who} onChange={(e) => setParticipant(e.target.value)}>
              {pending.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name} ({p.role})
                </option>
              ))}
            </select>
          </Field>
          <TokenPicker
            choice={choice}
            run={act.run}
            names={{ module: 'cosign-module', token: 'cosign-token' }}
            moduleLabel="Their token's PKCS#11 module"
            moduleHint="For a YubiKey or a smartcard: OpenSC's opensc-pkcs11.so."
            tokenLabel="Their token"
          />
          <Field label="Key label (optional)" hint="Only when the token holds more than one signing key.">
            <input name="cosign-key-label" value={keyLabel} onChange={(e) => setKeyLabel(e.target.value)} spellCheck={false} />
          </Field>
          <Field label="Their PIN" hint="Typed by the person who signs; it is not kept.">
            <input ref={pin} type="password" name="cosign-pin" autoComplete="off" />
          </Field>
          <button type="submit" disabled={act.busy || !token || !who}>
            Sign as {signers.find((p) => p.id === who)?.name ?? '…'}
          </button>
        </form>
      ) : (
        <p className="ok" data-testid="cosign-all-done">
          Every witness and the administrator has co-signed.
        </p>
      )}

      <h2>Attestation</h2>
      <p>A one-page sheet with the digest and a signature line for each witness, to sign by hand and keep with the share envelopes.</p>
      <div className="actions">
        {rehearsal ? (
          <button type="button" className="secondary" onClick={() => void act.run(async () => setPrinted((await call(keyrite().printAttestation({ pdf: true }))).output))}>
            Save the attestation as a rehearsal PDF
          </button>
        ) : printers ? (
          printers.map((p) => (
            <button key={p.name} type="button" className="secondary" onClick={() => void act.run(async () => setPrinted((await call(keyrite().printAttestation({ printer: p.name }))).output))}>
              Print on {p.displayName || p.name}
            </button>
          ))
        ) : (
          <button type="button" className="secondary" onClick={() => void act.run(async () => setPrinters(await call(keyrite().listPrinters())))}>
            Print the attestation…
          </button>
        )}
      </div>
      {printed ? <p data-testid="attestation-printed">Attestation: {printed}</p> : null}

      <Busy text={act.busy ? 'Working…' : undefined} />
      <ErrorBox error={act.error} />
      <div className="actions">
        <button type="button" onClick={onContinue} data-testid="cosign-continue">
          {pending.length === 0 ? 'Continue' : done.length === 0 ? 'Finish without co-signatures' : 'Finish without more co-signatures'}
        </button>
      </div>
    </Screen>
  );
}
