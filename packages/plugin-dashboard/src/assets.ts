import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { AgentdError, type HttpRequest, type HttpResponse } from '@agentd/core';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
};

/**
 * Headers every dashboard answer carries: no framing (clickjacking), no sniffing, no referrer
 * leaving the page, and a content policy allowing only the dashboard's own files.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': contentPolicy("'self'", "'self'"),
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

function contentPolicy(scripts: string, styles: string): string {
  return `default-src 'none'; script-src ${scripts}; style-src ${styles}; img-src 'self' data:; connect-src 'self'; manifest-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`;
}

/** A content-policy source for exactly this inline script or style. */
const hashSource = (text: string) =>
  `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/**
 * Run in the page's head, before its first frame: the server renders the overview into every
 * page (it never sees the URL's hash, which holds the route), so a link to another page hides
 * that rendering until the client has drawn its own page, instead of showing the overview
 * first. main.tsx removes the mark after its first render.
 */
const DEEP_LINK_SCRIPT =
  "(function(){var p=location.hash.replace(/^#\\/?/,'').split(/[/?]/)[0];if(p&&p!=='overview')document.documentElement.setAttribute('data-route','other')})()";

/** Renders the first view's markup from its API answers (src/first-view-render.ts). */
export type FirstViewRenderer = (answers: Readonly<Record<string, unknown>>) => string | undefined;

/** index.html split around `#app`'s content, with the content policy its inline parts need. */
interface PageTemplate {
  before: string;
  after: string;
  policy: string;
}

interface Asset {
  type: string;
  body: Buffer;
  gzip: Buffer | undefined;
  immutable: boolean;
}

/**
 * The prebuilt browser client (Vite's output in `dist/client`), read once into memory, each file
 * also gzipped once, so serving costs no disk read and no compression per request.
 *
 * @example
 * ```ts
 * const assets = ClientAssets.load();
 * const answer = assets.answer('index.html', request);
 * ```
 */
export class ClientAssets {
  readonly #files = new Map<string, Asset>();
  /** index.html with its stylesheet inlined and the deep-link script, split around `#app`'s content. */
  #page: PageTemplate | undefined;

  private constructor(readonly directory: string) {}

  /** Reads the client from the first directory that holds its index.html. */
  static load(directories: readonly string[] = defaultDirectories()): ClientAssets {
    const directory = directories.find((d) => existsSync(join(d, 'index.html')));
    if (!directory) {
      throw new AgentdError(
        'E_DASHBOARD_ASSETS',
        `the dashboard's browser assets are missing (looked in ${directories.join(', ')}); build the package with \`npm run build -w @agentd/plugin-dashboard\``,
      );
    }
    const assets = new ClientAssets(directory);
    for (const file of walk(directory)) {
      const name = relative(directory, file).split(sep).join('/');
      if (name.endsWith('.map')) continue;
      const body = readFileSync(file);
      const type = TYPES[extname(name)] ?? 'application/octet-stream';
      const compressible = /^(text\/|application\/(json|manifest)|image\/svg)/.test(type);
      assets.#files.set(name, {
        type,
        body,
        gzip: compressible && body.length > 512 ? gzipSync(body, { level: 9 }) : undefined,
        immutable: name.startsWith('assets/'),
      });
    }
    assets.#page = assets.#pageTemplate();
    return assets;
  }

  /**
   * The page as the client's index.html with its stylesheet inline (allowed by its hash): a cold
   * visit paints with no request but the page's own, and the server-rendered first view shows
   * styled before any script or stylesheet arrives.
   */
  #pageTemplate(): PageTemplate | undefined {
    const html = this.#files.get('index.html')?.body.toString('utf8');
    const app = '<div id="app"></div>';
    if (html === undefined || !html.includes(app)) return undefined;
    let styles = "'self'";
    const inlined = html.replace(
      /<link rel="stylesheet"[^>]*href="\.\/(assets\/[^"]+\.css)"[^>]*>/,
      (link, name: string) => {
        const css = this.#files.get(name)?.body.toString('utf8');
        if (css === undefined || css.includes('</')) return link;
        styles += ` ${hashSource(css)}`;
        return `<style>${css}</style>`;
      },
    );
    const withScript = inlined.replace(
      '</head>',
      `<script>${DEEP_LINK_SCRIPT}</script>\n  </head>`,
    );
    const at = withScript.indexOf(app) + app.length - '</div>'.length;
    return {
      before: withScript.slice(0, at),
      after: withScript.slice(at),
      policy: contentPolicy(`'self' ${hashSource(DEEP_LINK_SCRIPT)}`, styles),
    };
  }

  /** The names served, for tests and the size budget. */
  get names(): string[] {
    return [...this.#files.keys()];
  }

  /** The gzipped size of everything shipped (what a first visit downloads at most). */
  get gzippedBytes(): number {
    let total = 0;
    for (const file of this.#files.values()) total += (file.gzip ?? file.body).length;
    return total;
  }

  /**
   * The page (`index.html`) for one caller: the first view's API answers in it, as a JSON data
   * block (`<script type="application/json" id="agentd-first-view">`: never run, so the content
   * policy needs no allowance for it) that the client reads instead of asking for them, and the
   * overview already rendered from them by `render` (when given and the caller may see it), so
   * the first frame shows the data before any script has run. `first` maps API paths to their
   * answers, already masked; the page is then the caller's own (it holds their CSRF token), so it
   * is never stored.
   */
  page(
    request: HttpRequest,
    first: Readonly<Record<string, unknown>>,
    render?: FirstViewRenderer,
  ): HttpResponse | undefined {
    const template = this.#page;
    if (!template) return this.answer('index.html', request);
    const file = this.#files.get('index.html') as Asset;
    const hasAnswers = Object.keys(first).length > 0;
    // `<` escaped: no `</script>` (or `<!--`) in an answer can end the block early.
    const block = hasAnswers
      ? `<script type="application/json" id="agentd-first-view">${JSON.stringify(first).replace(/</g, '\\u003c')}</script>`
      : '';
    const markup = hasAnswers && render ? (render(first) ?? '') : '';
    const after = template.after.replace('</body>', `${block}\n  </body>`);
    const body = Buffer.from(template.before + markup + after);
    return fileResponse(request, file.type, 'no-store', body, () => gzipSync(body), {
      'content-security-policy': template.policy,
    });
  }

  /** The answer for one file, or undefined when there is no such file. */
  answer(name: string, request: HttpRequest): HttpResponse | undefined {
    const file = this.#files.get(name);
    if (!file) return undefined;
    const { gzip } = file;
    return fileResponse(
      request,
      file.type,
      file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      file.body,
      gzip && (() => gzip),
    );
  }
}

/**
 * A file's answer: the security headers, its type and caching, and its bytes gzipped when the
 * caller takes gzip and `gzipped` gives them. Bytes, not a string: the server masks string
 * bodies, which a bundle must not go through.
 */
function fileResponse(
  request: HttpRequest,
  type: string,
  cacheControl: string,
  body: Buffer,
  gzipped: (() => Buffer) | undefined,
  overrides: Readonly<Record<string, string>> = {},
): HttpResponse {
  const gzip = gzipped !== undefined && /\bgzip\b/.test(request.header('accept-encoding') ?? '');
  return {
    headers: {
      ...SECURITY_HEADERS,
      'content-type': type,
      'cache-control': cacheControl,
      vary: 'accept-encoding',
      ...(gzip ? { 'content-encoding': 'gzip' } : {}),
      ...overrides,
    },
    body: gzip ? gzipped() : body,
  };
}

/** `dist/client` beside the built module, or (running from `src/` in tests) `../dist/client`. */
function defaultDirectories(): string[] {
  const here = fileURLToPath(new URL('.', import.meta.url));
  return [join(here, 'client'), join(here, '..', 'dist', 'client')];
}

function* walk(directory: string): Generator<string> {
  for (const entry of readdirSync(directory)) {
    const path = join(directory, entry);
    if (statSync(path).isDirectory()) yield* walk(path);
    else yield path;
  }
}
