#!/usr/bin/env node
// Start-up and CLI bench (`npm run bench:startup`): wall time from spawning `agentd start` for
// the starter host (examples/starter's config, without Telegram) to its "is ready" log line; and
// `agentd status` / `agentd tasks` wall time (spawn to exit) with TASKS tasks stored. Same-run
// references, alternating with agentd: a bare Node process that opens the same SQLite file and
// prints "ready" (the floor of any Node host), and a plain better-sqlite3 script answering the
// same questions (counts by status; the newest 20 tasks). Options:
//   --runs N    alternating runs per contender, median reported (default 5)
//   --tasks N   tasks stored for the CLI reads (default 1000000)
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openSqliteStore } from '@agentd/store-sqlite';
import Database from 'better-sqlite3';
import { alternate, fmt, line, log, med, printMachine } from './lib.mjs';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    tasks: { type: 'string', default: '1000000' },
  },
});
const RUNS = Number(args.runs);
const TASKS = Number(args.tasks);
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const CLI = join(root, 'packages/core/bin/agentd.js');
// Inside the repository, so the copied starter config resolves its imports from node_modules.
const dir = mkdtempSync(join(here, '.run-'));
copyFileSync(join(root, 'examples/starter/agentd.config.ts'), join(dir, 'agentd.config.ts'));
const dbPath = join(dir, '.agentd', 'agentd.db');
const env = { ...process.env, TELEGRAM_BOT_TOKEN: '', npm_command: '' };

// CPU time as well as wall time: on this shared 2-core machine wall time is mostly waiting for a
// core, while the CPU a process burns (user + system) says what it costs by itself. A process
// that exits reports its own (a preload prints it at exit, on stderr); a host is read from
// /proc/<pid>/stat at the moment it is ready (Linux; elsewhere cpuMs is left out). Both for the
// whole process and for its main thread alone (`mainCpuMs`, from /proc/<pid>/task/<pid>/stat, in
// 10 ms ticks): the whole process also counts V8's garbage collector and compiler threads and
// libuv's file-system threads, which run beside the main thread, so its CPU time exceeds the wall
// time on an idle machine; the main thread's is what an idle machine's wall time comes close to.
const CPU_MARK = 'bench-cpu-ms=';
const cpuAtExit =
  `import { readFileSync } from 'node:fs'; ${statCpuMs.toString()}` +
  `process.on('exit', () => { const u = process.cpuUsage(); const main = statCpuMs('/proc/self/task/' + process.pid + '/stat'); process.stderr.write('\\n${CPU_MARK}' + Math.round((u.user + u.system) / 1000) + ',' + (main ?? '') + '\\n'); });`;
const preload = ['--import', `data:text/javascript,${encodeURIComponent(cpuAtExit)}`];

/**
 * User + system CPU ms from a /proc stat file (clock ticks of 10 ms), or undefined off Linux.
 * Self-contained: the exit preload (`cpuAtExit`) runs its source in the measured process.
 */
function statCpuMs(file) {
  try {
    const stat = readFileSync(file, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

/** CPU ms of a running process: all its threads, and its main thread (whose id is the pid). */
const cpuMsOf = (pid) => ({
  all: statCpuMs(`/proc/${pid}/stat`),
  main: statCpuMs(`/proc/${pid}/task/${pid}/stat`),
});

/**
 * Spawns and resolves with the ms until `readyText` appears on stdout/stderr (then SIGTERM), or
 * until exit, and the CPU ms the process used by then.
 */
function timed(argv, { readyText, okCodes = [0] } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, readyText ? argv : [...preload, ...argv], {
      cwd: dir,
      env,
    });
    let out = '';
    let readyMs;
    let cpuMs;
    let mainCpuMs;
    const onData = (chunk) => {
      out += chunk;
      if (readyText && readyMs === undefined && out.includes(readyText)) {
        readyMs = performance.now() - t0;
        ({ all: cpuMs, main: mainCpuMs } = cpuMsOf(child.pid));
        child.kill('SIGTERM');
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = readyMs ?? performance.now() - t0;
      if (!readyText) {
        const mark = out.lastIndexOf(CPU_MARK);
        if (mark >= 0) {
          const [all, main] = out
            .slice(mark + CPU_MARK.length)
            .split('\n')[0]
            .split(',');
          cpuMs = Number.parseInt(all, 10);
          mainCpuMs = main ? Number.parseInt(main, 10) : undefined;
        }
      }
      if (readyText ? readyMs === undefined : !okCodes.includes(code)) {
        reject(new Error(`${argv.join(' ')} exited ${code}:\n${out.slice(-2000)}`));
      } else resolve({ ms: Math.round(ms), cpuMs, mainCpuMs, bytes: out.length });
    });
  });
}

const floorScript = `const D = (await import('better-sqlite3')).default; const db = new D(${JSON.stringify(dbPath)}); db.pragma('journal_mode = WAL'); console.log('ready'); db.close();`;
const readsScript = (what) =>
  `const D = (await import('better-sqlite3')).default; const db = new D(${JSON.stringify(dbPath)}, { readonly: true });` +
  (what === 'status'
    ? `console.log(db.prepare("SELECT status, COUNT(*) AS n FROM tasks GROUP BY status").all());`
    : `console.log(db.prepare("SELECT * FROM tasks ORDER BY seq DESC LIMIT 20").all());`) +
  'db.close();';
const nodeEval = (script) => ['--input-type=module', '-e', script];

/** TASKS tasks in one INSERT…SELECT over a recursive CTE, copying one real task's row. */
async function seed() {
  const store = openSqliteStore({ path: dbPath, backgroundCheckpoints: false });
  await store.tasks.enqueue({ input: 'seed', agent: 'greeter' }, Date.now());
  await store.close();
  const db = new Database(dbPath);
  const columns = db
    .prepare('PRAGMA table_info(tasks)')
    .all()
    .map((c) => c.name)
    .filter((c) => c !== 'seq');
  const value = (c) => {
    if (c === 'id') return "printf('bench%013d', i)";
    if (c === 'idempotency_key') return 'NULL';
    if (c === 'status')
      return "CASE i % 100 WHEN 0 THEN 'failed' WHEN 1 THEN 'cancelled' ELSE 'completed' END";
    if (c === 'created_at') return `created_at - (${TASKS} - i) * 1000`;
    if (c === 'finished_at') return `created_at - (${TASKS} - i) * 1000 + 5`;
    if (c === 'lease_owner' || c === 'lease_expires_at' || c === 'lease_process') return 'NULL';
    return c;
  };
  const t0 = performance.now();
  const seedSeq = db.prepare('SELECT max(seq) FROM tasks').pluck().get();
  // The store counts the tasks it inserts (migration 0011, no insert trigger): rows inserted by
  // hand are added to task_counts by hand, in the same transaction, as the store would.
  db.transaction(() => {
    db.exec(`INSERT INTO tasks (${columns.join(', ')})
      WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${TASKS - 1})
      SELECT ${columns.map(value).join(', ')} FROM n, (SELECT * FROM tasks WHERE input LIKE '%seed%' LIMIT 1)`);
    db.exec(`INSERT INTO task_counts (status, priority, n)
      SELECT CASE WHEN status = 'pending' OR status = 'running' OR status = 'completed'
        THEN 'pending|running|completed' ELSE status END, priority, count(*)
      FROM tasks WHERE seq > ${seedSeq} GROUP BY 1, 2
      ON CONFLICT (status, priority) DO UPDATE SET n = n + excluded.n`);
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  const count = db.prepare('SELECT COUNT(*) AS n FROM tasks').get().n;
  db.close();
  log(`  seeded ${fmt(count)} tasks in ${fmt((performance.now() - t0) / 1000, 1)} s`);
  return count;
}

printMachine(`agentd start-up and CLI bench: ${RUNS} alternating runs, medians`);
let start;
let stored;
let reads;
try {
  start = await alternate(RUNS, {
    agentd: () => timed([CLI, 'start'], { readyText: 'is ready' }),
    nodeFloor: () => timed(nodeEval(floorScript), { readyText: 'ready' }),
  });
  stored = await seed();
  reads = await alternate(RUNS, {
    // Exit 3: no running host answered; status then reads the store directly, as measured here.
    status: () => timed([CLI, 'status'], { okCodes: [0, 3] }),
    statusRef: () => timed(nodeEval(readsScript('status'))),
    tasks: () => timed([CLI, 'tasks']),
    tasksRef: () => timed(nodeEval(readsScript('tasks'))),
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}

line(
  'agentd start → ready (starter host)',
  med(start.agentd, 'ms'),
  'ms',
  med(start.nodeFloor, 'ms'),
  'node + SQLite open',
  { lowerIsBetter: true },
);
line(
  `agentd status, ${fmt(stored)} tasks`,
  med(reads.status, 'ms'),
  'ms',
  med(reads.statusRef, 'ms'),
  'node + GROUP BY',
  { lowerIsBetter: true },
);
line(
  `agentd tasks, ${fmt(stored)} tasks`,
  med(reads.tasks, 'ms'),
  'ms',
  med(reads.tasksRef, 'ms'),
  'node + LIMIT 20',
  { lowerIsBetter: true },
);
const cpu = (runs, field) =>
  runs.every((r) => r[field] !== undefined) ? med(runs, field) : undefined;
for (const [label, mine, ref, refLabel] of [
  ['agentd start → ready', start.agentd, start.nodeFloor, 'node + SQLite open'],
  ['agentd status', reads.status, reads.statusRef, 'node + GROUP BY'],
  ['agentd tasks', reads.tasks, reads.tasksRef, 'node + LIMIT 20'],
]) {
  for (const [prefix, field] of [
    ['CPU', 'cpuMs'],
    ['CPU, main thread', 'mainCpuMs'],
  ]) {
    if (cpu(mine, field) !== undefined && cpu(ref, field) !== undefined) {
      line(`${prefix}: ${label}`, cpu(mine, field), 'ms', cpu(ref, field), refLabel, {
        lowerIsBetter: true,
      });
    }
  }
}
console.log('targets: ready within 1,000 ms; each read command within 300 ms (wall time)');
