// Helpers for this package's tests: how senders sign, and a small HTTP client for raw cases.
import { createHmac } from 'node:crypto';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { command, InboundRouterToken, type Plugin } from '@agentd/core';

/** A Standard Webhooks `v1,<base64>` signature, as a sender computes it. */
export function signStandard(
  key: Buffer,
  id: string,
  timestamp: number | string,
  body: string | Buffer,
): string {
  const mac = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64');
  return `v1,${mac}`;
}

/** GitHub's `sha256=<hex>`. */
export function signGithub(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Hex HMAC-SHA256 of `body` (optionally `${timestamp}.` first). */
export function hmacHex(secret: string, body: string | Buffer, timestamp?: number): string {
  const mac = createHmac('sha256', secret);
  if (timestamp !== undefined) mac.update(`${timestamp}.`);
  return mac.update(body).digest('hex');
}

/** The answer of {@link send}. */
export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: <T = Record<string, unknown>>() => T;
}

/**
 * One request with node:http (no client-side body buffering magic): `chunks` are written one by
 * one, without Content-Length when `chunked` is set.
 */
export function send(
  url: string,
  options: {
    method?: string;
    /** A list sends the header once per value. */
    headers?: Record<string, string | string[]>;
    body?: string | Buffer;
    chunks?: (string | Buffer)[];
    agent?: false;
  } = {},
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | string[]> = { ...options.headers };
    if (options.body !== undefined)
      headers['content-length'] = String(Buffer.byteLength(options.body));
    const req = request(url, { method: options.method ?? 'GET', headers, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text,
          json: <T>() => JSON.parse(text) as T,
        });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (options.chunks) {
      for (const c of options.chunks) req.write(c);
      req.end();
    } else {
      req.end(options.body);
    }
  });
}

/** Opens a raw TCP connection to `url`'s host and port. */
export function rawSocket(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => resolve(socket));
    socket.on('error', reject);
  });
}

/**
 * Writes `raw` bytes on a fresh connection and resolves with everything the server sent until
 * it closed the connection (or `timeoutMs` passed).
 */
export async function rawExchange(
  url: string,
  raw: string | Buffer,
  timeoutMs = 5000,
): Promise<string> {
  const socket = await rawSocket(url);
  return new Promise((resolve) => {
    let reply = '';
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    socket.on('data', (d) => {
      reply += d;
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(reply);
    });
    socket.write(raw);
  });
}

/** Polls `check` every 5 ms until it holds, or fails after `timeoutMs`. */
export async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A plugin adding a `/ping` chat command that answers `pong` (commands through the chat intakes). */
export const pingCommand: Plugin = {
  name: 'ping-command',
  register: (ctx) =>
    void ctx
      .resolve(InboundRouterToken)
      .use(command('ping', () => 'pong', { description: 'Ping' })),
};
