// The server's rendering of the first view (built by vite.server.config.ts into
// dist/server-render, loaded by src/first-view-render.ts): the overview's markup from the
// answers the page carries, put into the page so it shows before any script has run. The
// browser's first render (main.tsx) then takes over these elements.
import { renderToString } from 'preact-render-to-string';
import type { Me } from './api';
import { Shell } from './app';
import { withFirst } from './first-view';

/**
 * The markup of the overview (frame and page) for `answers` (API paths to answers, as the page
 * carries them), or undefined when there is nothing to show before the client runs: no signed-in
 * caller, or no overview answer.
 */
export function renderFirstView(answers: Readonly<Record<string, unknown>>): string | undefined {
  const me = answers['/me'] as Me | undefined;
  if (!me?.authenticated || answers['/overview'] === undefined) return undefined;
  return withFirst(answers, () => renderToString(<Shell me={me} onLogout={() => undefined} />));
}
