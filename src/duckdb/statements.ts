/**
 * Prepared statements kept for reuse, by SQL text. A page asks the same SQL again with other values at
 * every filter change (the filter's values are bound parameters, never spliced), and preparing it is
 * a round trip to DuckDB-WASM's worker plus parsing, binding and planning: for the SDK's larger
 * queries (weekly progress) more than the query itself takes on the cube's small tables. DuckDB plans
 * a prepared statement without its values, so running a kept one with new values gives what a fresh
 * one would. Plain code, no DuckDB: src/duckdb/client.ts keeps one cache per connection.
 */

/** A prepared statement as the cache needs it: closed when it is dropped. */
export interface Closable {
  close(): Promise<void>;
}

/** How many statements a connection keeps by default (the site's pages use fewer than 40 SQL texts). */
export const STATEMENTS_KEPT = 64;

/**
 * Keeps up to `kept` prepared statements by SQL text, the least recently used dropped (and closed)
 * first, never one in use. A statement whose preparation failed is not kept: the next call prepares
 * it again.
 *
 * @param prepare - prepares a statement for a SQL text
 * @param kept - how many unused statements to keep at most (default {@link STATEMENTS_KEPT})
 * @returns `use(text, run)`: runs `run` with the statement for `text` (prepared once, then reused);
 *   `size()`: how many statements are kept; `clear()`: closes every statement not in use and forgets all
 * @example
 * ```ts
 * let prepared = 0;
 * const cache = statementCache(async (text) => ({text, n: ++prepared, close: async () => {}}));
 * await cache.use("SELECT ?", async (s) => s.n); // → 1
 * await cache.use("SELECT ?", async (s) => s.n); // → 1
 * await cache.use("SELECT ? + 1", async (s) => s.n); // → 2
 * cache.size(); // → 2
 * ```
 */
export function statementCache<S extends Closable>(
  prepare: (text: string) => Promise<S>,
  kept: number = STATEMENTS_KEPT
): {
  use<T>(text: string, run: (statement: S) => Promise<T>): Promise<T>;
  size(): number;
  clear(): Promise<void>;
} {
  if (!Number.isInteger(kept) || kept < 0) throw new RangeError(`保留的预备语句数须为非负整数：${kept}`);
  // Insertion order is recency: a statement used again is moved to the end.
  const entries = new Map<string, {statement: Promise<S>; users: number}>();
  const close = (statement: Promise<S>): void => {
    statement.then(
      (s) => s.close().catch(() => undefined),
      () => undefined
    );
  };
  const trim = (): void => {
    for (const [text, entry] of entries) {
      if (entries.size <= kept) break;
      if (entry.users > 0) continue;
      entries.delete(text);
      close(entry.statement);
    }
  };
  return {
    async use(text, run) {
      let entry = entries.get(text);
      if (entry) entries.delete(text);
      else {
        entry = {statement: prepare(text), users: 0};
        const failed = entry;
        entry.statement.catch(() => {
          if (entries.get(text) === failed) entries.delete(text);
        });
      }
      entries.set(text, entry);
      entry.users += 1;
      try {
        return await run(await entry.statement);
      } finally {
        entry.users -= 1;
        trim();
      }
    },
    size: () => entries.size,
    async clear() {
      for (const [text, entry] of entries) {
        if (entry.users > 0) continue;
        entries.delete(text);
        close(entry.statement);
      }
    }
  };
}
