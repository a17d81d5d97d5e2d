import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Logger } from '@agentd/core';
import type { FirstViewRenderer } from './assets.js';

/**
 * The server's rendering of the overview (the client's own components, built for Node by
 * vite.server.config.ts into `server-render/` beside the client's directory), so the page carries
 * the first view's markup and it shows before the client's script has loaded. Loaded once, when
 * the dashboard starts. Without the built renderer, or when it throws, pages carry the answers
 * only and the client renders them, as before: a failure here costs speed, never the page.
 *
 * @example
 * ```ts
 * const render = await loadFirstViewRenderer(assets.directory, logger);
 * const page = assets.page(request, answers, render);
 * ```
 */
export async function loadFirstViewRenderer(
  clientDirectory: string,
  logger: Logger,
): Promise<FirstViewRenderer | undefined> {
  const file = join(clientDirectory, '..', 'server-render', 'server-render.js');
  if (!existsSync(file)) {
    logger.warn(
      { file },
      'the dashboard renders its first view in the browser only: no server renderer built',
    );
    return undefined;
  }
  try {
    const { renderFirstView } = (await import(pathToFileURL(file).href)) as {
      renderFirstView: FirstViewRenderer;
    };
    let failed = false;
    return (answers) => {
      if (failed) return undefined;
      try {
        return renderFirstView(answers);
      } catch (error) {
        // Once: a renderer that throws on these answers would throw on the next page too.
        failed = true;
        logger.warn({ err: error }, 'the dashboard stopped rendering its first view on the server');
        return undefined;
      }
    };
  } catch (error) {
    logger.warn({ err: error, file }, 'the dashboard could not load its first-view renderer');
    return undefined;
  }
}
