// The child side of a contender: each contender's server runs in a process of its own (on the
// Node version it needs), started by bench.mjs with fork(). It reports `ready` with its base URL
// and Node version, and stops on `close`. bench.mjs times the start-up and reads the CPU time and
// memory of the contender's whole process tree from /proc.

/** Hands the parent the contender's address, then waits for its `close`. */
export function serveParent({ url, info = {}, close }) {
  process.on('message', async (m) => {
    if (m?.type === 'close') {
      try {
        await close?.();
      } finally {
        process.exit(0);
      }
    }
  });
  process.send({ type: 'ready', url, node: process.version, ...info });
}

/** The options bench.mjs passes: the fake LLM's URL and a scratch directory. */
export function childOptions() {
  const [llmUrl, dir] = process.argv.slice(2);
  if (!llmUrl || !dir) throw new Error('usage: <contender>.mjs LLM_URL DIR (started by bench.mjs)');
  return { llmUrl, dir };
}

/** A free TCP port on 127.0.0.1, for servers that take no port 0. */
export async function freePort() {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}
