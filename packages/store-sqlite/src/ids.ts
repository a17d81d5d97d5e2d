import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';
const COUNTER_SPACE = 36 ** 3;

function randomBase36(length: number): string {
  let out = '';
  for (const byte of randomBytes(length)) out += ALPHABET[byte % 36];
  return out;
}

// Random per process: two processes writing one file in the same millisecond with the same
// counter still get different ids (a clash needs the same 6 characters: about 1 in 2e9).
const NODE = randomBase36(6);
let lastMs = 0;
let counter = 0;

/**
 * A new 18-character id: base36 milliseconds (9), a per-millisecond counter (3), a random
 * per-process part (6). Ids sort by creation time, which keeps the id index append-mostly
 * (random UUIDs scatter inserts over the whole B-tree), and are unique within a process even
 * when the wall clock steps back, because the time part never decreases.
 *
 * @example
 * ```ts
 * newId(); // '0mhs3k2c8007x2p9qz'
 * ```
 */
export function newId(): string {
  const now = Date.now();
  if (now > lastMs) {
    lastMs = now;
    counter = 0;
  } else if (++counter >= COUNTER_SPACE) {
    lastMs += 1;
    counter = 0;
  }
  return lastMs.toString(36).padStart(9, '0') + counter.toString(36).padStart(3, '0') + NODE;
}
