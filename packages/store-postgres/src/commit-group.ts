/** Options of a {@link CommitGroup}. */
export interface CommitGroupOptions {
  /** Writes in flight at once (default 1): what arrives meanwhile waits and joins the next one. */
  maxInFlight?: number;
  /** Items in one write at most (default 256). */
  maxBatch?: number;
}

/**
 * Writes a batch atomically (all or nothing: a rejection means none was stored, so each item can
 * be written again on its own) and returns each item's result in order. A result may be a
 * promise, for what is settled after the commit (reading a row another transaction holds): it
 * rejects only its own caller.
 */
export type WriteMany<Item, Result> = (items: Item[]) => Promise<(Result | PromiseLike<Result>)[]>;

interface Waiting<Item, Result> {
  item: Item;
  resolve: (result: Result | PromiseLike<Result>) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for a store's hot writes. A PostgreSQL commit waits for the WAL to reach the
 * disk (`synchronous_commit=on`): on the machines this was measured on that costs 0.5 to 5 ms,
 * far more than writing a row, so a store that commits once per call is bound by the disk
 * rather than by the work. A `CommitGroup` writes the calls of one turn of the event loop
 * together at the end of that turn (a lone caller waits for nothing else), and gathers the calls
 * that arrive while that write is in flight into the next write: one statement or transaction,
 * one commit for all of them. Under load, batches grow by themselves; with no load, every call
 * is written as it comes. With `maxInFlight` above one, what waits is dealt out evenly over the
 * free writes.
 *
 * Every caller still resolves only after its own item is committed, with its own result. When a
 * shared write fails (it is atomic: nothing of it was stored), each of its items is written again
 * on its own (`writeOne`), so one item the database refuses fails only its own caller.
 *
 * @example
 * ```ts
 * const inserts = new CommitGroup<string, number>(
 *   (names) => insertAll(names), // one statement for the batch, results in order
 *   (name) => insertOne(name),
 * );
 * const id = await inserts.submit('a');
 * ```
 */
export class CommitGroup<Item, Result> {
  readonly #writeMany: WriteMany<Item, Result>;
  readonly #writeOne: (item: Item) => Promise<Result>;
  readonly #maxInFlight: number;
  readonly #maxBatch: number;
  #waiting: Waiting<Item, Result>[] = [];
  #inFlight = 0;
  #scheduled = false;

  constructor(
    writeMany: WriteMany<Item, Result>,
    writeOne: (item: Item) => Promise<Result>,
    options: CommitGroupOptions = {},
  ) {
    this.#writeMany = writeMany;
    this.#writeOne = writeOne;
    this.#maxInFlight = options.maxInFlight ?? 1;
    this.#maxBatch = options.maxBatch ?? 256;
  }

  /** Writes `item` with the next write; resolves with its result once that write committed. */
  submit(item: Item): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      this.#waiting.push({ item, resolve, reject });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled || this.#inFlight >= this.#maxInFlight || this.#waiting.length === 0) {
      return;
    }
    // At the end of this turn of the event loop, not at once: callers that start in the same
    // turn share a write, also when each reaches `submit` through several awaits (a runner's
    // tasks claimed together finish together, each through its own chain of promises). A
    // microtask split them: the first caller's flush ran before the others' chains reached
    // `submit`, so ten tasks went as a write of one and a write of nine, two commits for ten.
    this.#scheduled = true;
    setImmediate(this.#flush);
  }

  readonly #flush = (): void => {
    this.#scheduled = false;
    // What waits is dealt out evenly over the free slots: with two, ten callers go as two writes
    // of five. The writes then come back at different moments, and while one is in the
    // database its callers' next work runs here: the host and the database take turns
    // instead of waiting for each other.
    const share = Math.ceil(this.#waiting.length / (this.#maxInFlight - this.#inFlight));
    while (this.#inFlight < this.#maxInFlight && this.#waiting.length > 0) {
      const batch = this.#waiting.splice(0, Math.min(this.#maxBatch, share));
      this.#inFlight++;
      void this.#write(batch).finally(() => {
        this.#inFlight--;
        this.#schedule();
      });
    }
  };

  async #write(batch: Waiting<Item, Result>[]): Promise<void> {
    if (batch.length > 1) {
      let results: (Result | PromiseLike<Result>)[] | undefined;
      try {
        results = await this.#writeMany(batch.map((w) => w.item));
      } catch {
        // One at a time below: each caller gets its own item's outcome.
      }
      if (results) {
        for (const [i, w] of batch.entries()) w.resolve(results[i] as Result);
        return;
      }
    }
    await Promise.all(
      batch.map(async (w) => {
        try {
          w.resolve(await this.#writeOne(w.item));
        } catch (error) {
          w.reject(error);
        }
      }),
    );
  }
}
