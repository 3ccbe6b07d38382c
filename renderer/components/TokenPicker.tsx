/**
 * Picking a PKCS#11 module and a token on it, for the Recover and Co-sign screens: the modules main
 * discovered (or one chosen in main's file dialog — the page only ever holds handles), optional
 * C_Initialize parameters, "Find tokens", then the token. Tokens are told apart by their place in
 * the list, not by serial: NSS and tpm2-pkcs11 give every token the same serial number, and the
 * core then selects by label and serial.
 */
import { useEffect, useState } from 'react';
import type { Chosen, TokenSummary } from '../../electron/api.ts';
import { call, keyrite } from '../bridge.ts';
import { Field } from './ui.tsx';

export interface TokenChoice {
  modules: Chosen[];
  setModules: (f: (list: Chosen[]) => Chosen[]) => void;
  /** The selected module's handle. */
  module: string;
  setModule: (handle: string) => void;
  tokens?: TokenSummary[];
  setTokens: (t: TokenSummary[] | undefined) => void;
  /** C_Initialize parameters for a module that needs them; public, not a secret. */
  moduleArgs: string;
  setModuleArgs: (s: string) => void;
  /** The chosen token's place in `tokens` ('' for none). */
  pick: string;
  setPick: (s: string) => void;
  token?: TokenSummary;
}

export function useTokenChoice(): TokenChoice {
  const [modules, setModules] = useState<Chosen[]>([]);
  const [module, setModule] = useState('');
  const [tokens, setTokens] = useState<TokenSummary[]>();
  const [moduleArgs, setModuleArgs] = useState('');
  const [pick, setPick] = useState('');
  useEffect(() => {
    void keyrite()
      .listModules()
      .then((r) => {
        if (!r.ok) return;
        setModules(r.value);
        setModule((m) => m || r.value[0]?.handle || '');
      });
  }, []);
  const token = pick === '' ? undefined : tokens?.[Number(pick)];
  return { modules, setModules, module, setModule, tokens, setTokens, moduleArgs, setModuleArgs, pick, setPick, token };
}

export function TokenPicker(props: {
  choice: TokenChoice;
  /** Runs an action with the screen's busy and error handling (useAction().run). */
  run: <T>(f: () => Promise<T>) => Promise<T | undefined>;
  /** Form names of the two selects (the tests and the screens' own forms address them). */
  names: { module: string; token: string };
  moduleLabel: string;
  moduleHint: string;
  tokenLabel: string;
}) {
  const c = props.choice;
  return (
    <>
      <Field label={props.moduleLabel} hint={props.moduleHint}>
        <div className="row">
          <select name={props.names.module} value={c.module} onChange={(e) => c.setModule(e.target.value)}>
            {c.modules.length ? null : <option value="">— none found; choose one —</option>}
            {c.modules.map((m) => (
              <option key={m.handle} value={m.handle}>
                {m.name}
              </option>
            ))}
          </select>
          <button
            type="button"
            className="secondary"
            onClick={() =>
              void props.run(async () => {
                const m = await call(keyrite().chooseModule());
                if (!m) return;
                c.setModules((list) => (list.some((x) => x.handle === m.handle) ? list : [...list, m]));
                c.setModule(m.handle);
              })
            }
          >
            Choose another module…
          </button>
          <button type="button" className="secondary" disabled={!c.module} onClick={() => void props.run(async () => {
                c.setPick('');
                c.setTokens(await call(keyrite().listTokens(c.module, c.moduleArgs)));
              })}>
            Find tokens
          </button>
        </div>
      </Field>
      <Field label="Module parameters (optional)" hint="Only for a module that needs a parameter string when it starts (C_Initialize), e.g. NSS's configdir='…'; the plan's hsm.initArgs. Leave empty for most HSMs.">
        <input name="module-args" value={c.moduleArgs} onChange={(e) => c.setModuleArgs(e.target.value)} spellCheck={false} />
      </Field>
      {c.tokens ? (
        <Field label={props.tokenLabel}>
          <select name={props.names.token} value={c.pick} onChange={(e) => c.setPick(e.target.value)}>
            <option value="">— choose —</option>
            {c.tokens.map((t, i) => (
              <option key={i} value={String(i)}>
                {t.label} ({t.manufacturer} {t.model}, serial {t.serialNumber})
              </option>
            ))}
          </select>
        </Field>
      ) : null}
    </>
  );
}
