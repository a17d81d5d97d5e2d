// The Telegram bench's load and its checks, shared by the in-process mode and the fake server's
// own process (telegram-fake.mjs): pushes updates into a FakeBotApi round-robin over the chats
// (a burst, or paced at a rate), follows the replies it records, and checks that every update is
// answered exactly once and each chat's replies come in order.
import { percentile, sleep } from './lib.mjs';

/**
 * Follows the replies the fake receives as they are recorded (a waiter's predicate runs on each
 * recorded call), measuring latency from the push of the update to the reply, and checking that
 * every update is answered exactly once and each chat's replies come in order.
 */
function follow(api, count) {
  const pushedAt = new Map();
  const answered = new Set();
  const lastSeq = new Map();
  const latencies = [];
  let seen = 0;
  let duplicates = 0;
  let outOfOrder = 0;
  let lastReplyAt = 0;
  const scan = () => {
    for (; seen < api.calls.length; seen++) {
      const call = api.calls[seen];
      if (call.method !== 'sendMessage' || call.failed) continue;
      const key = String(call.params.text).replace(/^ok /, '');
      const t = pushedAt.get(key);
      if (t === undefined) continue;
      if (answered.has(key)) duplicates++;
      answered.add(key);
      latencies.push(call.at - t);
      lastReplyAt = call.at;
      const [chat, seq] = key.split(':').slice(1).map(Number);
      if ((lastSeq.get(chat) ?? -1) > seq) outOfOrder++;
      lastSeq.set(chat, seq);
    }
    return answered.size >= count;
  };
  return {
    push(chat, seq) {
      const key = `m:${chat}:${seq}`;
      pushedAt.set(key, Date.now());
      api.sendText({ id: chat }, key);
    },
    done: () => api.waitFor(scan, 120_000, `${count} replies`),
    result: () => ({ latencies, duplicates, outOfOrder, answered: answered.size, lastReplyAt }),
  };
}

/**
 * Pushes a burst of `updates` (round-robin over `chats`), or paces `rate` updates/s for `seconds`
 * (10 ms ticks), and waits for every reply. `fakeCpuUs` is this process's CPU over the run: the
 * fake's own when it runs alone, the bot's and the fake's when they share the process.
 */
export async function drive(api, { mode, updates, rate, seconds, chats }) {
  const count = mode === 'burst' ? updates : rate * seconds;
  const f = follow(api, count);
  const seq = new Map();
  const pushOne = (i) => {
    const chat = 1 + (i % chats);
    const s = seq.get(chat) ?? 0;
    seq.set(chat, s + 1);
    f.push(chat, s);
  };
  const t0 = Date.now();
  const cpu0 = process.cpuUsage();
  if (mode === 'burst') {
    for (let i = 0; i < count; i++) pushOne(i);
  } else {
    const perTick = rate / 100;
    for (let tick = 0, i = 0; i < count; tick++) {
      for (let k = 0; k < perTick && i < count; k++) pushOne(i++);
      const wait = t0 + (tick + 1) * 10 - Date.now();
      if (wait > 0) await sleep(wait);
    }
  }
  await f.done();
  const cpu = process.cpuUsage(cpu0);
  const r = f.result();
  return {
    count,
    updatesPerSecond: Math.round(count / ((r.lastReplyAt - t0) / 1000)),
    fakeCpuUs: cpu.user + cpu.system,
    p50: percentile(r.latencies, 50),
    p99: percentile(r.latencies, 99),
    answered: r.answered,
    duplicates: r.duplicates,
    outOfOrder: r.outOfOrder,
  };
}
