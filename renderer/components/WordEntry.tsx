/**
 * Share words, entered one at a time with completion from the SLIP-39 word list. Any word is
 * identified by its first 4 letters, so "acad" is "academic". Space, Tab or Enter accepts a word;
 * Backspace in an empty box takes the last one back. The words typed so far are shown above the box
 * (numbered, so the custodian can check them against the sheet); they live only in this component
 * and are cleared as soon as they have been handed to main. A complete share whose RS1024 checksum
 * fails is not sent: the one wrong word is located (core/shares/locate-error.ts, the CLI's code)
 * and only that word is typed again.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import { checksumValid, locateWrongWord } from '../../electron/core/shares/locate-error.ts';
import { call, keyrite } from '../bridge.ts';

let wordListCache: Promise<string[]> | undefined;
function loadWordList(): Promise<string[]> {
  wordListCache ??= call(keyrite().wordList());
  return wordListCache;
}

/** The word the typed text stands for: the exact word, or the only word with this 4+ letter prefix. */
export function completeWord(words: string[], typed: string): string | undefined {
  const t = typed.trim().toLowerCase();
  if (!t) return undefined;
  if (words.includes(t)) return t;
  const matches = words.filter((w) => w.startsWith(t));
  if (matches.length === 1) return matches[0];
  if (t.length >= 4) {
    const byPrefix = words.filter((w) => w.slice(0, 4) === t.slice(0, 4) && w.startsWith(t));
    if (byPrefix.length === 1) return byPrefix[0];
  }
  return undefined;
}

export function WordEntry(props: {
  /** Submit automatically at this many words (33 for Keyrite's 256-bit backup key). */
  expected?: number;
  busy?: boolean;
  label: string;
  onSubmit(words: string): Promise<boolean>;
  testId?: string;
}) {
  const [list, setList] = useState<string[]>([]);
  const [entered, setEntered] = useState<string[]>([]);
  const [typed, setTyped] = useState('');
  const [note, setNote] = useState('');
  /** 1-based position the checksum blames, while the custodian re-types that one word. */
  const [fixing, setFixing] = useState<number>();
  const input = useRef<HTMLInputElement>(null);

  useEffect(() => {
    loadWordList().then(setList, () => setNote('The word list could not be loaded.'));
  }, []);
  // Back to the box whenever it is usable again (it is disabled while main checks a share).
  useEffect(() => {
    if (!props.busy) input.current?.focus();
  }, [props.busy]);

  const suggestions = useMemo(() => {
    const t = typed.trim().toLowerCase();
    return t ? list.filter((w) => w.startsWith(t)).slice(0, 6) : [];
  }, [typed, list]);

  const clear = () => {
    setEntered([]);
    setTyped('');
    setFixing(undefined);
  };

  const submit = async (words: string[]) => {
    // A share that fails its own checksum never goes to main: name the wrong word instead.
    const indices = words.map((w) => list.indexOf(w));
    if (!checksumValid(indices)) {
      const wrong = locateWrongWord(indices);
      setTyped('');
      if (wrong.length === 1) {
        setFixing(wrong[0]);
        setNote(`Word ${wrong[0]} looks wrong: the share's checksum does not match. Check word ${wrong[0]} on the sheet and type it again.`);
      } else {
        clear();
        setNote("The share's checksum does not match and no single word explains it (two words wrong, or two swapped?). Type the share again from word 1.");
      }
      input.current?.focus();
      return;
    }
    // Cleared either way: on success the share is in main; on failure it is typed again, carefully,
    // and the screen does not keep a wrong or foreign share on display.
    await props.onSubmit(words.join(' '));
    clear();
    input.current?.focus();
  };

  const accept = (text: string) => {
    const tokens = text.trim().split(/\s+/).filter(Boolean);
    if (fixing !== undefined) {
      const w = completeWord(list, tokens[0] ?? '');
      if (!w) {
        setNote(`“${tokens[0]}” is not a word of the list (word ${fixing}). Check the sheet and type it again.`);
        setTyped(tokens[0] ?? '');
        return;
      }
      const next = entered.map((x, i) => (i === fixing - 1 ? w : x));
      setEntered(next);
      setFixing(undefined);
      setNote('');
      setTyped('');
      void submit(next);
      return;
    }
    let next = entered;
    for (const tok of tokens) {
      const w = completeWord(list, tok);
      if (!w) {
        setNote(`“${tok}” is not a word of the list (word ${next.length + 1}). Check the sheet and type it again.`);
        setEntered(next);
        setTyped(tok);
        return;
      }
      next = [...next, w];
    }
    setNote('');
    setEntered(next);
    setTyped('');
    if (props.expected && next.length === props.expected) void submit(next);
  };

  return (
    <div className="words" data-testid={props.testId}>
      <ol className="word-grid" aria-label="Words entered so far">
        {entered.map((w, i) => (
          <li key={i} className={fixing === i + 1 ? 'suspect' : undefined} aria-invalid={fixing === i + 1 ? true : undefined}>
            <span className="n">{i + 1}</span> {fixing === i + 1 ? '?' : w}
          </li>
        ))}
      </ol>
      <label className="field">
        <span className="label">
          {props.label} — word {fixing ?? entered.length + 1}
          {props.expected ? ` of ${props.expected}` : ''}
          {fixing ? ' (type it again)' : ''}
        </span>
        <input
          ref={input}
          className="word-input"
          autoComplete="off"
          autoCapitalize="off"
          spellCheck={false}
          value={typed}
          disabled={props.busy}
          aria-describedby="word-help"
          onChange={(e) => {
            const v = e.target.value;
            if (/\s$/.test(v) && v.trim()) accept(v);
            else setTyped(v.replace(/^\s+/, ''));
          }}
          onKeyDown={(e) => {
            if (e.key === 'Enter' || e.key === 'Tab') {
              if (typed.trim()) {
                e.preventDefault();
                accept(typed);
              } else if (e.key === 'Enter' && entered.length >= 20) {
                e.preventDefault();
                void submit(entered);
              }
            } else if (e.key === 'Backspace' && !typed && entered.length && fixing === undefined) {
              e.preventDefault();
              setEntered(entered.slice(0, -1));
            }
          }}
        />
      </label>
      <p id="word-help" className="hint">
        The first four letters of each word are enough. Space or Enter goes to the next word; Backspace in an empty box takes the last word back.
        {!props.expected ? ' Press Enter in the empty box when the share is complete.' : ''}
      </p>
      {suggestions.length > 0 ? (
        <p className="suggest" aria-live="polite">
          {suggestions.join(' · ')}
        </p>
      ) : null}
      {note ? (
        <p className="error" role="alert">
          {note}
        </p>
      ) : null}
      {!props.expected && entered.length >= 20 ? (
        <button type="button" disabled={props.busy} onClick={() => void submit(entered)}>
          Check this share
        </button>
      ) : null}
    </div>
  );
}
