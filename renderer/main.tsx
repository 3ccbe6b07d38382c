import './styles.css';

// The start screen is already in index.html (prerendered at build time, renderer/prerender.tsx):
// let the window paint it first, then load React and take it over (renderer/boot.tsx). Until then
// its buttons are disabled, so no click is lost. The timer is the fallback for a hidden window,
// where animation frames may not come.
let started = false;
const boot = () => {
  if (started) return;
  started = true;
  void import('./boot.tsx');
};
if (document.getElementById('root')!.firstElementChild) {
  requestAnimationFrame(() => setTimeout(boot, 0));
  setTimeout(boot, 50);
} else {
  boot();
}
