import { useEffect, useRef, useState } from 'react';
import type { Chosen, CosignSummary, PrinterSummary, TokenSummary } from '../../../electron/api.ts';
import { pgpWordsOfHex } from '../../../electron/core/transcript/pgp-words.ts';
import { call, keyrite } from '../../bridge.ts';
import { Busy, ErrorBox, Field, Screen, useAction } from '../../components/ui.tsx';
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
  /** Modules found by main, plus any chosen in its file dialog; `module` is the selected handle. */
  const [modules, setModules] = useState<Chosen[]>([]);
  const [module, setModule] = useState('');
  const [tokens, setTokens] = useState<TokenSummary[]>();
  /** C_Initialize parameters for a module that needs them; public, not a secret. */
  const [moduleArgs, setModuleArgs] = useState('');
  const [serial, setSerial] = useState('');
  const [keyLabel, setKeyLabel] = useState('');
  const [printers, setPrinters] = useState<PrinterSummary[]>();
  const [printed, setPrinted] = useState<string>();
  const pin = useRef<HTMLInputElement>(null);
  const act = useAction();
  const token = tokens?.find((t) => t.serialNumber === serial);
  const who = participant || pending[0]?.id || '';
  useEffect(() => {
    void keyrite()
      .listModules()
      .then((r) => {
        if (!r.ok) return;
        setModules(r.value);
        setModule((m) => m || r.value[0]?.handle || '');
      });
  }, []);

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
              setSerial('');
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
          <Field label="Their token's PKCS#11 module" hint="For a YubiKey or a smartcard: OpenSC's opensc-pkcs11.so.">
            <div className="row">
              <select name="cosign-module" value={module} onChange={(e) => setModule(e.target.value)}>
                {modules.length ? null : <option value="">— none found; choose one —</option>}
                {modules.map((m) => (
                  <option key={m.handle} value={m.handle}>
                    {m.name}
                  </option>
                ))}
              </select>
              <button
                type="button"
                className="secondary"
                onClick={() =>
                  void act.run(async () => {
                    const m = await call(keyrite().chooseModule());
                    if (!m) return;
                    setModules((list) => (list.some((x) => x.handle === m.handle) ? list : [...list, m]));
                    setModule(m.handle);
                  })
                }
              >
                Choose another module…
              </button>
              <button type="button" className="secondary" disabled={!module} onClick={() => void act.run(async () => setTokens(await call(keyrite().listTokens(module, moduleArgs))))}>
                Find tokens
              </button>
            </div>
          </Field>
          <Field label="Module parameters (optional)" hint="Only for a module that needs a parameter string when it starts (C_Initialize), e.g. NSS's configdir='…'; the plan's hsm.initArgs. Leave empty for most HSMs.">
            <input name="module-args" value={moduleArgs} onChange={(e) => setModuleArgs(e.target.value)} spellCheck={false} />
          </Field>
          {tokens ? (
            <Field label="Their token">
              <select name="cosign-token" value={serial} onChange={(e) => setSerial(e.target.value)}>
                <option value="">— choose —</option>
                {tokens.map((t) => (
                  <option key={t.serialNumber} value={t.serialNumber}>
                    {t.label} ({t.manufacturer} {t.model}, serial {t.serialNumber})
                  </option>
                ))}
              </select>
            </Field>
          ) : null}
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
