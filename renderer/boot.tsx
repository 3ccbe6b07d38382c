import { StrictMode } from 'react';
import { createRoot, hydrateRoot } from 'react-dom/client';
import { App } from './App.tsx';

const root = document.getElementById('root')!;
// The build writes the start screen into index.html (renderer/prerender.tsx); React takes it over
// in place, with the same `booting` it was rendered with, then enables it (App.tsx).
if (root.firstElementChild) {
  hydrateRoot(
    root,
    <StrictMode>
      <App booting />
    </StrictMode>,
  );
} else {
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}
