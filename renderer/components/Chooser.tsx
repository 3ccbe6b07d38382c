import type { Chosen } from '../../electron/api.ts';

/**
 * A file, folder or module chosen in main's dialog: the page shows its name and keeps the opaque
 * handle; it never holds or types a path (docs/desktop.md, "Files the app opens").
 */
export function Chooser({ name, value, button, onChoose, disabled }: { name: string; value?: Chosen; button: string; onChoose: () => void; disabled?: boolean }) {
  return (
    <div className="row">
      <output name={name} data-testid={`chosen-${name}`} className={value ? 'mono' : 'none'}>
        {value ? value.name : 'nothing chosen yet'}
      </output>
      <button type="button" className="secondary" onClick={onChoose} disabled={disabled}>
        {button}
      </button>
    </div>
  );
}
