/**
 * How a page should read the full (detail) data file: fetched whole and handed to DuckDB-WASM (what the
 * SDK does), or read by DuckDB-WASM's HTTP file system with range requests (`registerFileURL`). Issue
 * #20 asks for both measured, and for the one kept to be right after a reload (PLATFORM-NOTES: range
 * reads re-downloaded on warm visits here; public reports of stale or mixed ranges after a reload).
 *
 * The page bench/pages/range.md answers the two queries the site's pages ask of the detail rows
 * (largest cases, institutions with findings) in either mode. Per mode and run: a cold visit (new
 * profile) and a reload, each timed in the page (navigation start → answers) and counted by nginx
 * (requests for the data file, their statuses, bytes as sent); the answers of every visit are compared
 * with the first fetch-mode answers.
 */
import {openSession, type Session} from "./browser.js";
import type {BenchServer, LoggedRequest, ThrottleMethod} from "./nginx.js";
import {summarize, type Summary} from "./stats.js";

export const DETAIL_READ_PAGE = "/bench/range";
export const DETAIL_READ_MODES = ["fetch", "range"] as const;
export type DetailReadMode = (typeof DETAIL_READ_MODES)[number];

const TIMEOUT = 180_000;

/** One visit: ms from navigation start to the answers, and what nginx served for the data file. */
export interface DetailVisit {
  ms: number;
  /** Requests for `.duckdb` files, by HTTP status ("200": 3, "206": 41). */
  statuses: Record<string, number>;
  requests: number;
  /** Bytes nginx sent for them (headers and bodies, compressed as sent). */
  sent: number;
  answers: string;
}

export interface DetailReadFigures {
  cold_ms: Summary | null;
  reload_ms: Summary | null;
  cold_requests: Summary | null;
  cold_sent_bytes: Summary | null;
  reload_requests: Summary | null;
  reload_sent_bytes: Summary | null;
  /** Statuses of the data-file requests of the first run: cold, then reload. */
  statuses: {cold: Record<string, number>; reload: Record<string, number>} | null;
  /** Visits whose answers differed from the first fetch-mode answers. */
  wrong_answers: number;
  /** Visits that failed (error in the page, or no answer in time). */
  failures: number;
  visits: number;
}

export type DetailReadResult = Record<DetailReadMode, DetailReadFigures>;

function dataFileTraffic(requests: readonly LoggedRequest[]): Omit<DetailVisit, "ms" | "answers"> {
  const files = requests.filter((r) => r.path.endsWith(".duckdb"));
  const statuses: Record<string, number> = {};
  for (const r of files) statuses[String(r.status)] = (statuses[String(r.status)] ?? 0) + 1;
  return {
    statuses,
    requests: files.length,
    sent: files.reduce((sum, r) => sum + r.sent, 0)
  };
}

/** Opens `url` (or, with `reload`, reloads the page as the reader's F5 does) and waits for the answers. */
async function visit(session: Session, url: string, reload: boolean): Promise<{ms: number; answers: string}> {
  if (reload) await session.page.reload({waitUntil: "commit", timeout: TIMEOUT});
  else await session.page.goto(url, {waitUntil: "commit", timeout: TIMEOUT});
  await session.page.waitForFunction(
    () => {
      const r = (globalThis as {__fwRange?: {state: string}}).__fwRange;
      return r !== undefined && r.state !== "running";
    },
    undefined,
    {timeout: TIMEOUT, polling: 50}
  );
  const r = await session.page.evaluate(
    () => (globalThis as {__fwRange?: {state: string; ms: number; answers: string; error: string}}).__fwRange
  );
  if (!r || r.state !== "done") throw new Error(`${url}：${r?.error ?? "没有答案"}`);
  return {ms: r.ms, answers: r.answers};
}

/**
 * Measures both modes `runs` times (alternating, each on a new profile: cold, then a reload) and
 * returns their figures; problems (failures, wrong answers, off-site requests) are added to `problems`.
 */
export async function benchDetailRead(
  served: BenchServer,
  at: (path: string) => string,
  throttle: ThrottleMethod,
  runs: number,
  problems: string[],
  log: (message: string) => void
): Promise<DetailReadResult> {
  const visits = Object.fromEntries(
    DETAIL_READ_MODES.map((m) => [
      m,
      {cold: [] as DetailVisit[], reload: [] as DetailVisit[], failures: 0, wrong: 0}
    ])
  ) as Record<DetailReadMode, {cold: DetailVisit[]; reload: DetailVisit[]; failures: number; wrong: number}>;
  let reference: string | null = null;
  for (let run = 0; run < runs; ++run)
    for (const mode of DETAIL_READ_MODES) {
      const mine = visits[mode];
      const url = `${at(DETAIL_READ_PAGE)}?mode=${mode}`;
      const session = await openSession(served.origin, throttle);
      try {
        for (const kind of ["cold", "reload"] as const) {
          await served.take();
          const answer = await visit(session, url, kind === "reload");
          const traffic = dataFileTraffic(await served.take());
          reference ??= mode === "fetch" ? answer.answers : null;
          if (reference !== null && answer.answers !== reference) {
            mine.wrong += 1;
            problems.push(`明细文件（${mode}，第 ${run + 1} 轮，${kind}）：答案与整体下载的不同`);
          }
          mine[kind].push({...answer, ...traffic});
        }
      } catch (error) {
        mine.failures += 1;
        problems.push(`明细文件（${mode}，第 ${run + 1} 轮）：${(error as Error).message}`);
      }
      problems.push(...session.problems.map((p) => `明细文件（${mode}，第 ${run + 1} 轮）：${p}`));
      await session.close();
      const last = mine.cold.at(-1);
      const again = mine.reload.at(-1);
      log(
        `明细文件 ${mode}（第 ${run + 1} 轮）：冷 ${Math.round(last?.ms ?? NaN)} ms、${((last?.sent ?? NaN) / 1e6).toFixed(1)} MB；` +
          `重新载入 ${Math.round(again?.ms ?? NaN)} ms、${((again?.sent ?? NaN) / 1e6).toFixed(1)} MB`
      );
    }
  const figures = (mode: DetailReadMode): DetailReadFigures => {
    const v = visits[mode];
    const first = v.cold[0] && v.reload[0] ? {cold: v.cold[0].statuses, reload: v.reload[0].statuses} : null;
    return {
      cold_ms: summarize(v.cold.map((x) => x.ms)),
      reload_ms: summarize(v.reload.map((x) => x.ms)),
      cold_requests: summarize(v.cold.map((x) => x.requests)),
      cold_sent_bytes: summarize(v.cold.map((x) => x.sent)),
      reload_requests: summarize(v.reload.map((x) => x.requests)),
      reload_sent_bytes: summarize(v.reload.map((x) => x.sent)),
      statuses: first,
      wrong_answers: v.wrong,
      failures: v.failures,
      visits: v.cold.length + v.reload.length
    };
  };
  return {fetch: figures("fetch"), range: figures("range")};
}
