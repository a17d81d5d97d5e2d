#!/usr/bin/env node
// HTTP benchmark of @agentd/plugin-webhook beside bare node:http, on loopback only.
// Run after a build: `npm run build && node packages/plugin-webhook/bench/http.mjs`. Options:
//   --runs N       repetitions per measurement, median reported (default 3)
//   --duration S   seconds per run (default 5; each run has a 1 s warm-up first)
//   --only TEXT    run only the measurements whose name contains TEXT
//   --json FILE    also write the results to FILE
// Each server runs in a child process, the load generator in this one, so they do not share an
// event loop (on a 2-core machine they still share the CPU: figures are a floor, not a ceiling).
// Server CPU per request (user + system time of the server process over the measured window,
// divided by the requests answered) is the figure least disturbed by other load on the machine.
// Every request goes to 127.0.0.1; every loop is bounded by its duration or request count.
import { fork } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { connect, createServer as createTcpServer } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { signedDeliveries } from './signed-delivery.mjs';

// The parent picks the key and hands it to each server it forks, so both sides agree.
process.env.BENCH_WEBHOOK_KEY ??= randomBytes(24).toString('base64');
const SECRET_KEY = Buffer.from(process.env.BENCH_WEBHOOK_KEY, 'base64');
const WHSEC = `whsec_${SECRET_KEY.toString('base64')}`;
const BODY = JSON.stringify({ type: 'order.created', data: { id: 'ord_1', amount: 4200 } });

// ---------------------------------------------------------------- child: the servers under test
if (process.argv[2] === '--serve') {
  const kind = process.argv[3];
  // Server-side latency, request event to response finish, recorded the same way for both
  // servers: it leaves out the load generator's own delays on a busy machine.
  const latencies = new Float64Array(1 << 21);
  let recorded = 0;
  const emit = Server.prototype.emit;
  Server.prototype.emit = function (event, ...args) {
    if (event === 'request') {
      const t0 = performance.now();
      args[1].once('finish', () => {
        if (recorded < latencies.length) latencies[recorded++] = performance.now() - t0;
      });
    }
    return emit.call(this, event, ...args);
  };
  const dir = mkdtempSync(join(tmpdir(), 'agentd-http-bench-'));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  let close;
  if (kind === 'floor') {
    // The machine's floor for the fixed-rate client: no HTTP parser, no routing, a constant
    // answer written for every request head received. What remains is loopback, the kernel,
    // two event loops and the scheduler of this VM.
    const answer = Buffer.from(
      'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 17\r\n\r\n{"status":"pass"}',
    );
    const server = createTcpServer((socket) => {
      let pending = '';
      socket.on('data', (chunk) => {
        pending += chunk.toString('latin1');
        for (let end = pending.indexOf('\r\n\r\n'); end >= 0; end = pending.indexOf('\r\n\r\n')) {
          pending = pending.slice(end + 4);
          socket.write(answer);
        }
      });
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    close = () => new Promise((r) => server.close(r));
    process.send({ port: server.address().port });
  } else if (kind === 'bare') {
    // The floor: node:http answering /live, and doing a webhook's essential work by hand
    // (read, verify, parse, one SQLite insert keyed by the delivery id) with no framework.
    const { openSqliteStore } = await import('@agentd/store-sqlite');
    const store = openSqliteStore({ path: join(dir, 'bare.db') });
    const live = JSON.stringify({ status: 'pass' });
    const server = createServer((req, res) => {
      if (req.url === '/live') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': live.length });
        res.end(live);
        return;
      }
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', async () => {
        const body = Buffer.concat(chunks);
        const id = req.headers['webhook-id'];
        const ts = req.headers['webhook-timestamp'];
        const given = Buffer.from(String(req.headers['webhook-signature']).slice(3), 'base64');
        const mac = createHmac('sha256', SECRET_KEY).update(`${id}.${ts}.`).update(body).digest();
        if (given.length !== 32 || !mac.equals(given)) {
          res.writeHead(401).end();
          return;
        }
        const { task, created } = await store.tasks.enqueue(
          { input: JSON.parse(body), agent: 'noop', idempotencyKey: `webhook:std:${id}` },
          Date.now(),
        );
        const out = JSON.stringify({ taskId: task.id, duplicate: !created });
        res.writeHead(202, { 'content-type': 'application/json', 'content-length': out.length });
        res.end(out);
      });
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    close = async () => {
      await new Promise((r) => server.close(r));
      await store.close();
    };
    process.send({ port: server.address().port });
  } else {
    const { agent, createHost, HttpServerToken } = await import('@agentd/core');
    const { silentLogger } = await import('@agentd/core/host');
    const { sqlite } = await import('@agentd/store-sqlite');
    const { webhook } = await import('@agentd/plugin-webhook');
    const host = createHost({
      name: 'bench',
      logger: silentLogger(),
      // `agentd-intake`: no runner in the process, only the intake path (as the bare server).
      ...(kind === 'agentd-intake' ? { runner: false } : {}),
      agents: [agent('noop', () => null)],
      plugins: [
        sqlite({ path: join(dir, 'agentd.db') }),
        webhook({
          port: 0,
          routes: [
            { name: 'std', path: '/hooks/std', verify: { scheme: 'standard', secret: WHSEC } },
          ],
        }),
      ],
    });
    await host.start();
    close = () => host.stop('bench done');
    process.send({ port: host.resolve(HttpServerToken).address.port });
  }
  process.on('message', async (m) => {
    if (m === 'cpu') {
      const { user, system } = process.cpuUsage();
      const sorted = latencies.slice(0, recorded).sort();
      const serverP99 = recorded > 0 ? sorted[Math.floor(recorded * 0.99)] : 0;
      recorded = 0;
      process.send({ cpu: user + system, serverP99 });
      return;
    }
    if (m !== 'stop') return;
    await close();
    cleanup();
    process.exit(0);
  });
} else {
  await main();
}

// ---------------------------------------------------------------- parent: the load generator

/**
 * A keep-alive socket that sends requests written by the caller and calls `onResponse(status)`
 * once per complete response. It reads only what it needs: the status line, content-length, or
 * the end of a chunked body.
 */
function openSocket(host, port) {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, noDelay: true });
    let buffered = '';
    socket.on('data', (chunk) => {
      buffered += chunk.toString('latin1');
      for (;;) {
        const headEnd = buffered.indexOf('\r\n\r\n');
        if (headEnd < 0) return;
        const head = buffered.slice(0, headEnd);
        const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
        let end;
        if (length) end = headEnd + 4 + Number(length[1]);
        else {
          const last = buffered.indexOf('\r\n0\r\n\r\n', headEnd);
          end = last < 0 ? Number.POSITIVE_INFINITY : last + 7;
        }
        if (buffered.length < end) return;
        buffered = buffered.slice(end);
        socket.onResponse?.(Number(head.slice(9, 12)));
      }
    });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}
async function main() {
  const { values: args } = parseArgs({
    options: {
      runs: { type: 'string', default: '3' },
      duration: { type: 'string', default: '5' },
      only: { type: 'string' },
      json: { type: 'string' },
    },
  });
  const RUNS = Number(args.runs);
  const DURATION = Number(args.duration);
  const { default: autocannon } = await import('autocannon');
  const log = (m) => process.stderr.write(`${m}\n`);
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

  async function startServer(kind) {
    const child = fork(new URL(import.meta.url).pathname, ['--serve', kind], { stdio: 'inherit' });
    const { port } = await new Promise((resolve, reject) => {
      child.once('message', resolve);
      child.once('exit', (code) => reject(new Error(`${kind} server exited with ${code}`)));
    });
    return {
      url: `http://127.0.0.1:${port}`,
      /**
       * The server process's CPU time so far (µs: robust to noisy neighbours, unlike req/s),
       * and its p99 latency since the previous call.
       */
      stats: () =>
        new Promise((resolve) => {
          const onMessage = (m) => {
            if (m?.cpu === undefined) return;
            child.off('message', onMessage);
            resolve(m);
          };
          child.on('message', onMessage);
          child.send('cpu');
        }),
      stop: () =>
        new Promise((resolve) => {
          child.removeAllListeners('exit');
          child.once('exit', resolve);
          child.send('stop');
        }),
    };
  }

  const signedRequest = signedDeliveries(SECRET_KEY, BODY);

  /** Closed-loop maximum throughput with autocannon; p99 in whole milliseconds. */
  async function saturate(server, path, signed) {
    const opts = {
      url: `${server.url}${path}`,
      connections: 32,
      pipelining: 1,
      ...(signed ? { requests: [{ path, setupRequest: signedRequest }] } : {}),
    };
    await autocannon({ ...opts, duration: 1 });
    const before = await server.stats();
    const r = await autocannon({ ...opts, duration: DURATION });
    const after = await server.stats();
    const cpu = after.cpu - before.cpu;
    const bad = r.non2xx + r.errors + r.timeouts;
    if (bad > 0)
      log(
        `    warning: ${bad} failed requests (${JSON.stringify(r.statusCodeStats)}, errors ${r.errors})`,
      );
    return {
      rps: r.requests.average,
      p99: r.latency.p99,
      serverP99: after.serverP99,
      cpuUs: cpu / (r['2xx'] + r.non2xx),
    };
  }

  /**
   * Open-loop fixed rate: a request every 1/rate s over 16 keep-alive sockets, each written and
   * read by hand (node:http's client costs the shared CPU more than the server under test does).
   * Latency runs from the moment a request is written to the end of its response; how late the
   * client wrote each request against its schedule is reported apart (`sendLagP99`), so a slow
   * client on a busy machine shows as such instead of as server latency.
   */
  async function fixedRate(server, path, rate) {
    const { hostname, port } = new URL(server.url);
    const total = Math.round(rate * DURATION);
    const latencies = new Float64Array(total);
    const lags = new Float64Array(total);
    const request = Buffer.from(`GET ${path} HTTP/1.1\r\nhost: ${hostname}\r\n\r\n`);
    const sockets = await Promise.all(
      Array.from({ length: 16 }, () => openSocket(hostname, Number(port))),
    );
    const before = await server.stats();
    let done = 0;
    let failed = 0;
    const t0 = performance.now();
    await new Promise((resolve) => {
      for (const socket of sockets) {
        socket.onResponse = (status) => {
          latencies[socket.index] = performance.now() - socket.sentAt;
          if (status !== 200) failed++;
          socket.busy = false;
          if (++done === total) resolve();
        };
      }
      let sent = 0;
      const tick = () => {
        const due = Math.min(total, Math.floor(((performance.now() - t0) * rate) / 1000) + 1);
        while (sent < due) {
          const socket = sockets.find((s) => !s.busy);
          if (!socket) break; // all 16 waiting: the server is far behind; send when one frees
          socket.busy = true;
          socket.index = sent;
          socket.sentAt = performance.now();
          lags[sent] = socket.sentAt - (t0 + (sent * 1000) / rate);
          socket.write(request);
          sent++;
        }
        if (sent < total) setTimeout(tick, 1);
      };
      tick();
    });
    const elapsed = performance.now() - t0;
    const after = await server.stats();
    for (const socket of sockets) socket.destroy();
    const sorted = [...latencies].sort((a, b) => a - b);
    const pct = (xs, p) => xs[Math.min(total - 1, Math.floor((total * p) / 100))];
    if (failed > 0) log(`    warning: ${failed} requests answered other than 200`);
    return {
      rps: total / (elapsed / 1000),
      p50: pct(sorted, 50),
      p99: pct(sorted, 99),
      max: sorted[total - 1],
      sendLagP99: pct(
        [...lags].sort((a, b) => a - b),
        99,
      ),
      serverP99: after.serverP99,
      cpuUs: (after.cpu - before.cpu) / total,
    };
  }

  async function measure(name, kind, fn) {
    if (args.only && !name.includes(args.only)) return undefined;
    const runs = [];
    for (let i = 0; i < RUNS; i++) {
      const server = await startServer(kind);
      try {
        runs.push(await fn(server));
      } finally {
        await server.stop();
      }
      const r = runs.at(-1);
      log(
        `  ${name} run ${i + 1}/${RUNS}: ${Math.round(r.rps).toLocaleString('en')} req/s, p99 ${r.p99.toFixed(2)} ms (server ${r.serverP99.toFixed(2)} ms${r.sendLagP99 === undefined ? '' : `, client send lag p99 ${r.sendLagP99.toFixed(2)} ms`}), ${Math.round(r.cpuUs)} µs CPU/req`,
      );
    }
    const out = {
      rps: median(runs.map((r) => r.rps)),
      p99: median(runs.map((r) => r.p99)),
      serverP99: median(runs.map((r) => r.serverP99)),
      cpuUs: median(runs.map((r) => r.cpuUs)),
      ...(runs[0].sendLagP99 === undefined
        ? {}
        : { sendLagP99: median(runs.map((r) => r.sendLagP99)) }),
    };
    return { name, ...out, runs };
  }

  log(`HTTP bench: ${RUNS} runs x ${DURATION} s, ${cpus().length} cores, node ${process.version}`);
  const all = [
    await measure('bare node:http  GET /live', 'bare', (u) => saturate(u, '/live')),
    await measure('agentd          GET /live', 'agentd', (u) => saturate(u, '/live')),
    await measure('floor (constant TCP answer) @1000/s', 'floor', (u) =>
      fixedRate(u, '/live', 1000),
    ),
    await measure('bare node:http  GET /live @1000/s', 'bare', (u) => fixedRate(u, '/live', 1000)),
    await measure('agentd          GET /health @1000/s', 'agentd', (u) =>
      fixedRate(u, '/health', 1000),
    ),
    await measure('bare node:http  signed webhook -> SQLite', 'bare', (u) =>
      saturate(u, '/hooks/std', true),
    ),
    await measure('agentd          signed webhook -> task', 'agentd-intake', (u) =>
      saturate(u, '/hooks/std', true),
    ),
    await measure('agentd          same, runner executing', 'agentd', (u) =>
      saturate(u, '/hooks/std', true),
    ),
  ];
  const results = all.filter(Boolean);

  const machine = `${cpus().length} x ${cpus()[0]?.model.trim()}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`;
  const lines = [
    `machine: ${machine}`,
    `${RUNS} runs of ${DURATION} s each, medians; saturation runs use 32 connections (autocannon, p99 in whole ms);`,
    '@1000/s runs: 16 keep-alive sockets, latency from write to end of response, send lag = client lateness',
    '',
    `${'measurement'.padEnd(42)}${'req/s'.padStart(10)}${'p99 ms'.padStart(9)}${'server p99'.padStart(12)}${'send lag p99'.padStart(14)}${'CPU µs/req'.padStart(12)}`,
    ...results.map(
      (r) =>
        `${r.name.padEnd(42)}${Math.round(r.rps).toLocaleString('en').padStart(10)}${r.p99.toFixed(2).padStart(9)}${r.serverP99.toFixed(2).padStart(12)}${(r.sendLagP99 === undefined ? '' : r.sendLagP99.toFixed(2)).padStart(14)}${Math.round(r.cpuUs).toString().padStart(12)}`,
    ),
  ];
  const named = (prefix) => results.find((r) => r.name.startsWith(prefix));
  const floor = named('floor');
  const health = named('agentd          GET /health');
  const intake = named('agentd          signed webhook');
  lines.push('');
  if (health) {
    lines.push(
      `target /health p99 < 5 ms at 1,000 req/s: ${health.p99 < 5 ? 'met' : 'NOT met'} (client-observed ${health.p99.toFixed(2)} ms, server-side ${health.serverP99.toFixed(2)} ms${floor ? `; this machine's floor for the same client: ${floor.p99.toFixed(2)} ms` : ''})`,
    );
  }
  if (intake) {
    lines.push(
      `target webhook intake >= 5,000/s: ${intake.rps >= 5000 ? 'met' : 'NOT met'} (${Math.round(intake.rps).toLocaleString('en')}/s)`,
    );
  }
  // Issue 19's ratios against bare node:http in the same run: `/live` under saturation at least
  // 0.95x, signed webhook intake at least 2x (the bare server commits one insert per delivery).
  const ratioLine = (label, ours, theirs, target) => {
    if (!ours || !theirs) return;
    const ratio = ours.rps / theirs.rps;
    lines.push(
      `target ${label} >= ${target}x bare node:http: ${ratio >= target ? 'met' : 'NOT met'} (${ratio.toFixed(2)}x; CPU ${Math.round(ours.cpuUs)} vs ${Math.round(theirs.cpuUs)} µs/req)`,
    );
  };
  ratioLine(
    'GET /live',
    named('agentd          GET /live'),
    named('bare node:http  GET /live'),
    0.95,
  );
  ratioLine('signed webhook intake', intake, named('bare node:http  signed webhook'), 2);
  process.stdout.write(`${lines.join('\n')}\n`);
  if (args.json) writeFileSync(args.json, JSON.stringify({ machine, results }, null, 2));
}
