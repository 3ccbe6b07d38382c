/**
 * Build time only (vite.config.ts, prerenderStartScreen): the start screen as HTML, written into
 * dist/renderer/index.html so the window paints it as soon as the HTML and CSS are in, before any
 * script has run; renderer/boot.tsx then hydrates it. The start screen shows no data, so the markup
 * is the same for everyone.
 */
import { renderToString } from 'react-dom/server';
import { App } from './App.tsx';

export function renderStartScreen(): string {
  return renderToString(<App booting />);
}
