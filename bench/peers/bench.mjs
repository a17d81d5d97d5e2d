#!/usr/bin/env node
// Peers, side by side (`npm run bench:peers`): "a message in, an LLM-backed agent answers, the
// reply out" over each framework's own HTTP API, the LLM a fake OpenAI-compatible server on
// 127.0.0.1 (fake-llm.mjs, one process of its own per contender) answering at once. Contenders
// (contenders/*.mjs), each a server in a process of its own on the Node version it needs, started
// once, then measured in alternation:
//   agentd    Node 20  webhook plugin's OpenAI-compatible endpoint, llmAgent, SQLite store
//   mastra    Node 22  Mastra's Hono server adapter, Agent with Memory on LibSQL
//   openclaw  Node 24  OpenClaw's Gateway, its OpenAI-compatible Chat Completions endpoint
//   elizaos   Node 20  ElizaOS's AgentServer, Sessions API with the synchronous HTTP transport, PGlite
// Every message belongs to a user's conversation (agentd and OpenClaw: `user`; Mastra: memory
// thread and resource; ElizaOS: a session per user), which each framework keeps. Figures:
//   start     fork to listening, and fork to the first reply (what a user feels after a restart)
//   users     USERS users at once, each sending its next message when its reply has come
//             (closed loop, one keep-alive connection per user) for SECONDS: messages/s, reply
//             latency p50/p99, CPU per message of the contender's process tree (from /proc),
//             LLM calls per message (counted by the fake LLM), RSS
//   solo      one user, one message at a time, for SOLO seconds: reply latency p50/p99
// Options: --runs N (3) --seconds S (4) --solo S (2) --users N (16) --warmup S (2)
//          --min-replies N (3: a phase goes on past its time until N replies per user and 20 in
//          all have come, or 30 s)
//          --only a,b (peers to run; agentd always runs, as the reference)
// Each (phase, user) pair sends from its own loopback source address (127.1.x.y): ElizaOS's API
// admits 1,000 requests per 15 minutes per client address (express-rate-limit, not configurable),
// a guard against one abusive client which a bench of many users would otherwise run into.
// The same client code, addresses and texts go to every contender. Linux only (/proc).
import { fork } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  alternate,
  fmt,
  line,
  log,
  med,
  percentile,
  printMachine,
  tempDir,
} from '../users/lib.mjs';
import { FAKE_REPLY } from './fake-llm.mjs';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '4' },
    solo: { type: 'string', default: '2' },
    users: { type: 'string', default: '16' },
    warmup: { type: 'string', default: '2' },
    'min-replies': { type: 'string', default: '3' },
    only: { type: 'string' },
  },
});
const RUNS = Number(args.runs);
const SECONDS = Number(args.seconds);
const SOLO = Number(args.solo);
const USERS = Number(args.users);
const WARMUP = Number(args.warmup);
const MIN_REPLIES = Number(args['min-replies']);
const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const NODE22 = here('./node_modules/node22/bin/node');
const NODE24 = here('./node_modules/node24/bin/node');
const dir = tempDir('agentd-bench-peers-');

/** A node:http JSON request on a given agent; resolves { status, body } (body parsed). */
function call(url, { method = 'POST', path, body, headers = {}, agent }) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = request(
      new URL(path, url),
      {
        method,
        agent,
        headers: {
          ...(data ? { 'content-type': 'application/json', 'content-length': data.length } : {}),
          ...headers,
        },
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed;
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = text;
          }
          resolve({ status: res.statusCode, body: parsed });
        });
        res.on('error', reject);
      },
    );
    req.setTimeout(60_000, () => req.destroy(new Error('no answer within 60 s')));
    req.on('error', reject);
    req.end(data);
  });
}

// ------------------------------------------------------------------------------ the contenders
/**
 * A user of an OpenAI-compatible `/v1/chat/completions` endpoint (agentd's and OpenClaw's), as
 * `model`, behind the server's bearer token: each message is one request, the user named by
 * `user` so the framework keeps its conversation.
 */
function chatCompletionsUser(model) {
  return async (server, userNo, agent) => {
    const headers = { authorization: `Bearer ${server.token}` };
    return async (text) => {
      const r = await call(server.url, {
        path: '/v1/chat/completions',
        agent,
        headers,
        body: { model, user: `u${userNo}`, messages: [{ role: 'user', content: text }] },
      });
      if (r.status !== 200)
        throw new Error(`HTTP ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
      return r.body.choices?.[0]?.message?.content;
    };
  };
}

/**
 * How the bench talks to each contender: the script, the Node binary, and per user a `send`
 * that posts one message and returns the reply's text (or throws).
 */
const CONTENDERS = {
  agentd: {
    label: 'agentd',
    script: here('./contenders/agentd.mjs'),
    execPath: process.execPath,
    user: chatCompletionsUser('assistant'),
  },
  mastra: {
    label: 'Mastra',
    script: here('./contenders/mastra.mjs'),
    execPath: NODE22,
    async user(server, userNo, agent) {
      return async (text) => {
        const r = await call(server.url, {
          path: '/api/agents/assistant/generate',
          agent,
          body: {
            messages: [{ role: 'user', content: text }],
            memory: { thread: `thread-u${userNo}`, resource: `u${userNo}` },
          },
        });
        if (r.status !== 200)
          throw new Error(`HTTP ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
        return r.body.text;
      };
    },
  },
  openclaw: {
    label: 'OpenClaw',
    script: here('./contenders/openclaw.mjs'),
    execPath: NODE24,
    needs: here('./openclaw/node_modules/openclaw/openclaw.mjs'),
    user: chatCompletionsUser('openclaw'),
  },
  elizaos: {
    label: 'ElizaOS',
    script: here('./contenders/elizaos.mjs'),
    execPath: process.execPath,
    async user(server, userNo, agent) {
      const userId = `00000000-0000-4000-8000-${String(userNo).padStart(12, '0')}`;
      server.sessions ??= new Map();
      let sessionId = server.sessions.get(userNo);
      if (!sessionId) {
        const r = await call(server.url, {
          path: '/api/messaging/sessions',
          agent,
          body: { agentId: server.agentId, userId },
        });
        if (r.status !== 201)
          throw new Error(`session: HTTP ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
        sessionId = r.body.sessionId;
        server.sessions.set(userNo, sessionId);
      }
      return async (text) => {
        const r = await call(server.url, {
          path: `/api/messaging/sessions/${sessionId}/messages`,
          agent,
          body: { content: text, transport: 'http' },
        });
        if (r.status !== 201)
          throw new Error(`HTTP ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
        return r.body.agentResponse?.text;
      };
    },
  },
};

// ------------------------------------------------------------------------------ child processes
/** Every process's parent, CPU ticks (its own and its reaped children's) and RSS, from /proc. */
function processTable() {
  const table = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      table.set(Number(name), {
        ppid: Number(f[1]),
        ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]),
        rssPages: Number(f[21]),
      });
    } catch {} // the process ended meanwhile
  }
  return table;
}

/**
 * A contender's process and all its descendants (OpenClaw's Gateway runs workers of its own):
 * their pids, CPU time (µs; clock ticks of 10 ms, so read over whole phases only) and RSS (MiB).
 */
function tree(rootPid) {
  const table = processTable();
  const pids = [rootPid];
  for (let i = 0; i < pids.length; i++) {
    for (const [pid, p] of table) if (p.ppid === pids[i]) pids.push(pid);
  }
  let ticks = 0;
  let rssPages = 0;
  for (const pid of pids) {
    ticks += table.get(pid)?.ticks ?? 0;
    rssPages += table.get(pid)?.rssPages ?? 0;
  }
  return { pids, cpuUs: ticks * 10_000, rssMiB: Math.round((rssPages * 4096) / 2 ** 20) };
}

let requestId = 0;
function ask(child, type) {
  const id = ++requestId;
  return new Promise((resolve, reject) => {
    const onMessage = (m) => {
      if (m?.type !== type || m.id !== id) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(m);
    };
    const onExit = (code) => reject(new Error(`child exited (${code})`));
    child.on('message', onMessage);
    child.once('exit', onExit);
    child.send({ type, id });
  });
}

/** Forks a child and waits for its `ready` message; its stderr is kept for failure reports. */
function start(script, argv, execPath, { cwd, timeoutMs = 120_000 } = {}) {
  const t0 = performance.now();
  // In its scratch directory: ElizaOS makes .eliza/ in its working directory.
  const child = fork(script, argv, { cwd, execPath, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr.on('data', (c) => {
    stderr = (stderr + c.toString('utf8')).slice(-4000);
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`not ready within ${timeoutMs / 1000} s; stderr: ${stderr.slice(-1500)}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code}) before it was ready; stderr: ${stderr.slice(-1500)}`));
    });
    child.on('message', (m) => {
      if (m?.type !== 'ready') return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      // From the fork to the first answerable request: Node's own start, loading the
      // framework's modules, opening its store, listening.
      resolve({ child, ...m, forkedAt: t0, startupMs: Math.round(performance.now() - t0) });
    });
  });
}

/** Asks a contender to stop; whatever of its process tree is left after 10 s is killed. */
async function stop(child) {
  const { pids } = tree(child.pid);
  if (child.exitCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.send({ type: 'close' });
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
  for (const pid of pids.slice(1)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {} // already gone
  }
}

// ------------------------------------------------------------------------------ the load
let addressBlock = 0;
/** One keep-alive connection per user, each from a source address no phase used before. */
function userAgents(n) {
  const block = addressBlock++;
  return Array.from(
    { length: n },
    (_, i) =>
      new Agent({
        keepAlive: true,
        maxSockets: 1,
        localAddress: `127.${1 + Math.floor(block / 250)}.${block % 250}.${i + 1}`,
      }),
  );
}

let messageNo = 0;
/**
 * USERS users (or one) in a closed loop for `seconds`: each sends its next message when its
 * reply has come. Returns latencies, counts and the server's CPU and the fake LLM's calls over it.
 */
async function load(contender, server, llm, users, seconds) {
  const agents = userAgents(users);
  try {
    const senders = await Promise.all(
      agents.map((agent, i) => CONTENDERS[contender].user(server, i, agent)),
    );
    const latencies = [];
    let errors = 0;
    let wrong = 0;
    let firstError;
    const cpu0 = tree(server.child.pid);
    const llm0 = await ask(llm.child, 'count');
    const t0 = performance.now();
    const deadline = t0 + seconds * 1000;
    // Slow contenders answer only a few messages in a few seconds: each phase goes on past its
    // time until MIN_REPLIES per user and at least 20 in all have come (at most 30 s), so that
    // no median or percentile rests on one or two replies.
    const enough = () => latencies.length + errors >= Math.max(MIN_REPLIES * users, 20);
    const stopAt = t0 + 30_000;
    await Promise.all(
      senders.map(async (send, i) => {
        for (;;) {
          const now = performance.now();
          if (now >= stopAt || (now >= deadline && enough())) break;
          const text = `message ${++messageNo} from user ${i}`;
          const s = performance.now();
          try {
            const reply = await send(text);
            latencies.push(performance.now() - s);
            if (typeof reply !== 'string' || !reply.includes(FAKE_REPLY)) {
              wrong++;
              firstError ??= `unexpected reply ${JSON.stringify(reply)?.slice(0, 200)}`;
            }
          } catch (err) {
            errors++;
            firstError ??= err.message;
          }
        }
      }),
    );
    const elapsed = (performance.now() - t0) / 1000;
    const cpu1 = tree(server.child.pid);
    const llm1 = await ask(llm.child, 'count');
    const answered = latencies.length;
    if (firstError)
      log(`  ${contender}: ${errors} errors, ${wrong} wrong replies; first: ${firstError}`);
    return {
      messagesPerSecond: Math.round(answered / elapsed),
      p50: Number(percentile(latencies, 50).toFixed(1)),
      p99: Number(percentile(latencies, 99).toFixed(1)),
      cpuUsPerMessage: Math.round((cpu1.cpuUs - cpu0.cpuUs) / Math.max(1, answered)),
      llmCallsPerMessage: Number(
        ((llm1.requests - llm0.requests) / Math.max(1, answered)).toFixed(2),
      ),
      embeddingsPerMessage: Number(
        ((llm1.embeddings - llm0.embeddings) / Math.max(1, answered)).toFixed(2),
      ),
      rssMiB: cpu1.rssMiB,
      answered,
      errors,
      wrong,
    };
  } finally {
    for (const a of agents) a.destroy();
  }
}

// ------------------------------------------------------------------------------ the run
const wanted = [
  'agentd',
  ...(args.only?.split(',') ?? ['mastra', 'openclaw', 'elizaos']).filter((c) => c !== 'agentd'),
];
for (const c of wanted) if (!CONTENDERS[c]) throw new Error(`unknown contender ${c}`);
const m = printMachine(
  `Peers, side by side: a message in, an LLM-backed agent answers (fake OpenAI-compatible LLM on 127.0.0.1, answering at once), the reply out, over each framework's HTTP API; ${USERS} users for ${SECONDS} s and 1 user for ${SOLO} s per run, ${WARMUP} s warm-up each, ${RUNS} alternating runs, medians`,
);
// One fake LLM per contender, so that each one's calls are counted apart: a contender's
// background calls (ElizaOS embeds messages after it has answered) would otherwise be credited
// to the one measured next.
const startLlm = () => start(here('./fake-llm.mjs'), [], process.execPath, { timeoutMs: 10_000 });
const llms = {};
const servers = {};
const notRun = {};
for (const c of wanted) {
  const { execPath, script, needs } = CONTENDERS[c];
  const missing = [execPath, needs].find((f) => f && !existsSync(f));
  if (missing) {
    notRun[c] = `no ${missing} (\`npm run bench:peers\` installs it)`;
    continue;
  }
  const scratch = join(dir, c);
  mkdirSync(scratch, { recursive: true });
  try {
    llms[c] = await startLlm();
    servers[c] = await start(script, [llms[c].url, scratch], execPath, { cwd: scratch });
    // What a user feels after a (re)start: the first reply, which some load their agent
    // runtime for. From the same fork; a user of its own, outside the measured phases.
    const agent = userAgents(1)[0];
    const send = await CONTENDERS[c].user(servers[c], 1000, agent);
    const reply = await send('the first message after a start');
    agent.destroy();
    if (typeof reply !== 'string' || !reply.includes(FAKE_REPLY)) {
      throw new Error(`unexpected first reply ${JSON.stringify(reply)?.slice(0, 200)}`);
    }
    servers[c].firstReplyMs = Math.round(performance.now() - servers[c].forkedAt);
    log(
      `  ${c}: listening after ${servers[c].startupMs} ms, first reply after ${servers[c].firstReplyMs} ms, Node ${servers[c].node}`,
    );
  } catch (err) {
    notRun[c] = err.message;
    log(`  ${c}: could not start: ${err.message}`);
    if (servers[c]) await stop(servers[c].child);
    if (llms[c]) await stop(llms[c].child);
    delete servers[c];
    delete llms[c];
  }
}
if (!servers.agentd) {
  for (const c of Object.keys(servers)) await stop(servers[c].child);
  for (const l of Object.values(llms)) await stop(l.child);
  throw new Error(`agentd did not start: ${notRun.agentd}`);
}
const running = Object.keys(servers);
try {
  for (const c of running) await load(c, servers[c], llms[c], USERS, WARMUP); // unmeasured
  const byPhase = (phase) =>
    Object.fromEntries(
      running.map((c) => [
        c,
        () =>
          phase === 'users'
            ? load(c, servers[c], llms[c], USERS, SECONDS)
            : load(c, servers[c], llms[c], 1, SOLO),
      ]),
    );
  const users = await alternate(RUNS, byPhase('users'));
  const solo = await alternate(RUNS, byPhase('solo'));

  // One table (medians), then agentd against each peer with the ratio (above 1: agentd better).
  const columns = [
    ['contender', 10, (c) => CONTENDERS[c].label],
    ['Node', 9, (c) => servers[c].node],
    ['listening', 10, (c) => `${fmt(servers[c].startupMs)} ms`],
    ['1st reply', 10, (c) => `${fmt(servers[c].firstReplyMs)} ms`],
    ['msg/s', 6, (c) => fmt(med(users[c], 'messagesPerSecond'))],
    ['p50', 9, (c) => `${fmt(med(users[c], 'p50'), 1)} ms`],
    ['p99', 10, (c) => `${fmt(med(users[c], 'p99'), 1)} ms`],
    ['CPU/msg', 10, (c) => `${fmt(med(users[c], 'cpuUsPerMessage'))} µs`],
    ['LLM/msg', 7, (c) => fmt(med(users[c], 'llmCallsPerMessage'), 2)],
    ['emb/msg', 7, (c) => fmt(med(users[c], 'embeddingsPerMessage'), 2)],
    ['1 user p50', 10, (c) => `${fmt(med(solo[c], 'p50'), 1)} ms`],
    ['1 user p99', 10, (c) => `${fmt(med(solo[c], 'p99'), 1)} ms`],
    ['RSS', 8, (c) => `${fmt(med(users[c], 'rssMiB'))} MiB`],
    ['replies', 7, (c) => fmt([...users[c], ...solo[c]].reduce((n, r) => n + r.answered, 0))],
    [
      'errors',
      6,
      (c) => String([...users[c], ...solo[c]].reduce((n, r) => n + r.errors + r.wrong, 0)),
    ],
  ];
  console.log('');
  console.log(columns.map(([h, w], i) => (i < 2 ? h.padEnd(w) : h.padStart(w))).join(' '));
  for (const c of running) {
    console.log(
      columns.map(([, w, f], i) => (i < 2 ? f(c).padEnd(w) : f(c).padStart(w))).join(' '),
    );
  }
  console.log(
    `(${USERS} users at once unless "1 user"; CPU and RSS of the contender's process tree; LLM/msg and emb/msg: chat completions and embeddings calls the fake LLM answered per reply; replies: measured over all runs)`,
  );
  console.log('');
  const figures = [
    [`messages/s, ${USERS} users`, users, 'messagesPerSecond', 'msg/s', {}],
    [`reply p50, ${USERS} users`, users, 'p50', 'ms', { lowerIsBetter: true, digits: 1 }],
    [`reply p99, ${USERS} users`, users, 'p99', 'ms', { lowerIsBetter: true, digits: 1 }],
    ['CPU per message', users, 'cpuUsPerMessage', 'µs', { lowerIsBetter: true }],
    ['reply p50, 1 user', solo, 'p50', 'ms', { lowerIsBetter: true, digits: 1 }],
    ['reply p99, 1 user', solo, 'p99', 'ms', { lowerIsBetter: true, digits: 1 }],
  ];
  for (const c of running.filter((r) => r !== 'agentd')) {
    const ref = CONTENDERS[c].label;
    for (const [label, phase, field, unit, options] of figures) {
      line(
        `${label} (agentd vs ${ref})`,
        med(phase.agentd, field),
        unit,
        med(phase[c], field),
        ref,
        options,
      );
    }
    line(
      `start to first reply (agentd vs ${ref}; one start)`,
      servers.agentd.firstReplyMs,
      'ms',
      servers[c].firstReplyMs,
      ref,
      { lowerIsBetter: true },
    );
  }
  const failed = running.filter((c) =>
    [...users[c], ...solo[c]].some((r) => r.errors + r.wrong > 0),
  );
  if (failed.length) console.log(`errors or wrong replies: ${failed.join(', ')} (see stderr)`);
  if (failed.includes('agentd')) process.exitCode = 1;
} finally {
  for (const c of running) await stop(servers[c].child);
  for (const l of Object.values(llms)) await stop(l.child);
  rmSync(dir, { recursive: true, force: true });
}
const skipped = {
  ...notRun,
  'Hermes Agent': 'Python; PyPI is not reachable from this machine, so it cannot be installed',
  nanobot: 'Python; PyPI is not reachable from this machine, so it cannot be installed',
};
console.log(
  `not compared: ${Object.entries(skipped)
    .map(([c, why]) => `${c}: ${why}`)
    .join('; ')}`,
);
console.log(
  `load average at the end: ${(await import('node:os'))
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')} (at the start: ${m.load})`,
);
