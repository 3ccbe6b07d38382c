/**
 * A render error in a screen (a bug, or an answer from main the screen did not expect) would
 * otherwise unmount the whole tree and leave a blank window in the middle of a ceremony. This
 * shows a plain message instead: what failed, where the record is, and to restart the app. The
 * transcript is written by main as each step happens, so nothing of the record is lost here.
 */
import { Component, type ReactNode } from 'react';
import { useUi } from '../store.ts';

export class ScreenErrorBoundary extends Component<{ children: ReactNode }, { error?: Error }> {
  state: { error?: Error } = {};

  static getDerivedStateFromError(error: unknown) {
    return { error: error instanceof Error ? error : new Error(String(error)) };
  }

  componentDidCatch(error: unknown) {
    // The devtools console is the only log a renderer has; main's log never sees this.
    console.error('keyrite: screen error:', error);
  }

  render() {
    const { error } = this.state;
    if (!error) return this.props.children;
    const bundleDir = useUi.getState().bundleDir;
    return (
      <section className="screen" role="alert" data-testid="screen-error">
        <h1>Something went wrong</h1>
        <p data-testid="screen-error-message">
          Something went wrong on this screen: {error.message};{' '}
          {bundleDir ? (
            <>
              the ceremony record is safe in <code>{bundleDir}</code>
            </>
          ) : (
            'no ceremony record was being written'
          )}
          ; restart the app.
        </p>
      </section>
    );
  }
}
