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
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; manifest-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

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
    return assets;
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
   * The page (`index.html`) with the first view's API answers in it, as a JSON data block
   * (`<script type="application/json" id="agentd-first-view">`: never run, so the content policy
   * stays `script-src 'self'`) that the client reads instead of asking for them: one response
   * instead of three and a frame. `first` maps API paths to their answers, already masked; the
   * page is then the caller's own (it holds their CSRF token), so it is never stored.
   */
  page(request: HttpRequest, first: Readonly<Record<string, unknown>>): HttpResponse | undefined {
    if (Object.keys(first).length === 0) return this.answer('index.html', request);
    const file = this.#files.get('index.html');
    if (!file) return undefined;
    const html = file.body.toString('utf8');
    const at = html.lastIndexOf('</body>');
    // `<` escaped: no `</script>` (or `<!--`) in an answer can end the block early.
    const block = `<script type="application/json" id="agentd-first-view">${JSON.stringify(first).replace(/</g, '\\u003c')}</script>`;
    const body = Buffer.from(
      at < 0 ? html + block : `${html.slice(0, at)}${block}\n  ${html.slice(at)}`,
    );
    return fileResponse(request, file.type, 'no-store', body, () => gzipSync(body));
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
): HttpResponse {
  const gzip = gzipped !== undefined && /\bgzip\b/.test(request.header('accept-encoding') ?? '');
  return {
    headers: {
      ...SECURITY_HEADERS,
      'content-type': type,
      'cache-control': cacheControl,
      vary: 'accept-encoding',
      ...(gzip ? { 'content-encoding': 'gzip' } : {}),
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
