/**
 * Share words, entered one at a time with completion from the SLIP-39 word list. Any word is
 * identified by its first 4 letters, so "acad" is "academic". Space, Tab or Enter accepts a word;
 * Backspace in an empty box takes the last one back. The words live only in this component and are
 * cleared as soon as they have been handed to main.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
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

  const submit = async (words: string[]) => {
    // Cleared either way: on success the share is in main; on failure it is typed again, carefully,
    // and the screen does not keep a wrong or foreign share on display.
    await props.onSubmit(words.join(' '));
    setEntered([]);
    setTyped('');
    input.current?.focus();
  };

  const accept = (text: string) => {
    const tokens = text.trim().split(/\s+/).filter(Boolean);
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
          <li key={i}>
            <span className="n">{i + 1}</span> {w}
          </li>
        ))}
      </ol>
      <label className="field">
        <span className="label">
          {props.label} — word {entered.length + 1}
          {props.expected ? ` of ${props.expected}` : ''}
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
            } else if (e.key === 'Backspace' && !typed && entered.length) {
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
