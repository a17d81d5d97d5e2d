import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Where PostgreSQL's server binaries are: `AGENTD_TEST_POSTGRES_BIN`, or Debian's
 * `/usr/lib/postgresql/<newest>/bin`.
 */
function findBinDir(): string | undefined {
  const fromEnv = process.env.AGENTD_TEST_POSTGRES_BIN;
  if (fromEnv) return existsSync(join(fromEnv, 'initdb')) ? fromEnv : undefined;
  for (const major of [17, 16, 15, 14, 13]) {
    const dir = `/usr/lib/postgresql/${major}/bin`;
    if (existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'))) return dir;
  }
  return undefined;
}

/**
 * Whether {@link startPrivateCluster} can run here: PostgreSQL's server binaries (`initdb`,
 * `pg_ctl`) installed, and, when this process runs as root, a `postgres` user to run them as
 * (the server refuses to run as root). Without them tests skip with the reason, except in CI
 * (`CI` set), where the probe throws: CI must show that the outage tests ran.
 *
 * @example
 * ```ts
 * const cluster = probePrivateCluster();
 * describe.skipIf(!cluster.available)('a database restart', () => { ... });
 * ```
 */
export function probePrivateCluster(): { available: boolean; reason?: string } {
  const bin = findBinDir();
  let reason: string | undefined;
  if (!bin) {
    reason =
      'no PostgreSQL server binaries (initdb, pg_ctl) under /usr/lib/postgresql/*/bin; install postgresql or set AGENTD_TEST_POSTGRES_BIN';
  } else if (process.getuid?.() === 0 && postgresUser() === undefined) {
    reason = 'running as root and there is no "postgres" user to run the private server as';
  }
  if (!reason) return { available: true };
  if (process.env.CI) throw new Error(`private PostgreSQL tests cannot run in CI: ${reason}`);
  console.warn(`skipping private-PostgreSQL tests: ${reason}`);
  return { available: false, reason };
}

/** The `postgres` user's uid and gid, from /etc/passwd. */
function postgresUser(): { uid: number; gid: number } | undefined {
  try {
    const line = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('postgres:'));
    if (!line) return undefined;
    const [, , uid, gid] = line.split(':');
    return { uid: Number(uid), gid: Number(gid) };
  } catch {
    return undefined;
  }
}

/** A port nobody listens on right now, on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A PostgreSQL server of a test's own, which it may stop, kill and restart. */
export interface PrivateCluster {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust auth). */
  readonly url: string;
  readonly port: number;
  /** The data directory (and, beside it, the socket and the server log). */
  readonly dir: string;
  /** Whether the server is running, as far as this helper knows. */
  readonly running: boolean;
  /** Starts the server and waits until it takes connections. */
  start(): Promise<void>;
  /**
   * Stops the server: `immediate` (default) is a crash as far as clients are concerned (every
   * connection cut, crash recovery at the next start); `fast` ends sessions cleanly.
   */
  stop(mode?: 'immediate' | 'fast'): Promise<void>;
  /** `stop(mode)` then `start()`. */
  restart(mode?: 'immediate' | 'fast'): Promise<void>;
  /** The server's log so far (for a failing test's message). */
  log(): string;
  /** With `tls: true`: the server's self-signed certificate (PEM), to trust as `ssl.ca`. */
  readonly caCert?: string;
  /** Stops the server (immediate) and deletes its directory. Idempotent. */
  destroy(): Promise<void>;
}

/** Options of {@link startPrivateCluster}. */
export interface PrivateClusterOptions {
  /**
   * `fsync` on (default off): off is safe against the process crashes tests cause (the kernel
   * keeps what was written), not against a machine crash, and makes the server much faster on
   * a shared test machine.
   */
  fsync?: boolean;
  /** Extra `-c name=value` server settings, e.g. `{ max_connections: '50' }`. */
  settings?: Record<string, string>;
  /**
   * Serve TLS with a self-signed certificate for 127.0.0.1 and localhost (made with `openssl`);
   * its PEM text is {@link PrivateCluster.caCert}. Plain connections are still accepted.
   */
  tls?: boolean;
}

/**
 * Creates a PostgreSQL cluster of the test's own in a temporary directory (`initdb`, trust
 * auth, listening on 127.0.0.1 at a free port, its socket in the same directory) and starts
 * it. Unlike the shared server on 5432, a test may stop, crash (`-m immediate`) and restart
 * it. Call {@link probePrivateCluster} first; `destroy()` when done.
 *
 * @example
 * ```ts
 * const cluster = await startPrivateCluster();
 * try {
 *   const store = await openPostgresStore({ url: cluster.url });
 *   await cluster.restart(); // every connection of the store is cut
 *   await store.close();
 * } finally {
 *   await cluster.destroy();
 * }
 * ```
 */
export async function startPrivateCluster(
  options: PrivateClusterOptions = {},
): Promise<PrivateCluster> {
  const bin = findBinDir();
  if (!bin) throw new Error('no PostgreSQL server binaries: call probePrivateCluster() first');
  const dir = mkdtempSync(join(tmpdir(), 'agentd-pg-'));
  const data = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  const asRoot = process.getuid?.() === 0;
  const owner = asRoot ? postgresUser() : undefined;
  if (asRoot && !owner) throw new Error('running as root without a "postgres" user');
  if (owner) chownSync(dir, owner.uid, owner.gid);
  // The server refuses to run as root: run its tools as the postgres user then.
  const tool = (name: string, args: string[]) =>
    owner
      ? run('runuser', ['-u', 'postgres', '--', join(bin, name), ...args], { cwd: dir })
      : run(join(bin, name), args, { cwd: dir });

  await tool('initdb', [
    '-D',
    data,
    '-A',
    'trust',
    '-U',
    'postgres',
    '--no-sync',
    '-E',
    'UTF8',
    '--locale=C',
  ]);
  const port = await freePort();
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    port: String(port),
    unix_socket_directories: dir,
    fsync: options.fsync ? 'on' : 'off',
    max_connections: '100',
    ...options.settings,
  };
  let caCert: string | undefined;
  if (options.tls) {
    const cert = join(dir, 'server.crt');
    const key = join(dir, 'server.key');
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      key,
      '-out',
      cert,
    ]);
    // The server refuses a key others can read.
    chmodSync(key, 0o600);
    if (owner) {
      chownSync(key, owner.uid, owner.gid);
      chownSync(cert, owner.uid, owner.gid);
    }
    caCert = readFileSync(cert, 'utf8');
    Object.assign(settings, { ssl: 'on', ssl_cert_file: cert, ssl_key_file: key });
  }
  const serverArgs = Object.entries(settings)
    .map(([k, v]) => `-c ${k}=${v}`)
    .join(' ');
  let running = false;
  let destroyed = false;

  const cluster: PrivateCluster = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dir,
    ...(caCert !== undefined && { caCert }),
    get running() {
      return running;
    },
    async start() {
      await tool('pg_ctl', [
        'start',
        '-w',
        '-t',
        '30',
        '-D',
        data,
        '-l',
        logFile,
        '-o',
        serverArgs,
      ]);
      running = true;
    },
    async stop(mode = 'immediate') {
      await tool('pg_ctl', ['stop', '-w', '-t', '30', '-D', data, '-m', mode]);
      running = false;
    },
    async restart(mode = 'immediate') {
      await cluster.stop(mode);
      await cluster.start();
    },
    log() {
      try {
        return readFileSync(logFile, 'utf8');
      } catch {
        return '';
      }
    },
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      if (running) await cluster.stop('immediate').catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await cluster.start();
  } catch (error) {
    const log = cluster.log();
    await cluster.destroy();
    throw new Error(
      `the private PostgreSQL server did not start: ${(error as Error).message}\n${log}`,
    );
  }
  return cluster;
}
