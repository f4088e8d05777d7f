// The benchmark's site as `npm run bench` serves it, on its smallest dataset: nginx with deploy/nginx's
// configuration (bench/nginx.ts) and the link emulator in front. The overview and both baselines
// (arquero over Arrow, precomputed JSON) must draw their charts in Chromium with no problem and show the
// same figures, the arquero page alone must get 'unsafe-eval', and the harness's own measures (load until
// live, filter change, memory, bytes as sent) must finish on them with real figures. Without this, a
// change elsewhere (the strict CSP of #8 did) can leave a baseline drawing nothing while the benchmark
// still "runs", reporting NaN where its figures should be.
//
// The site is built with `--no-check` (the page check adds minutes and changes nothing checked here):
// its pages have no pre-baked first view, so every query runs in DuckDB-WASM.
import {chmod, mkdtemp, readdir, rm, stat} from "node:fs/promises";
import type {Server} from "node:http";
import {tmpdir} from "node:os";
import {join} from "node:path";
import type {Browser} from "playwright-core";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {launchChromium} from "../../scripts/browser.js";
import {checkPages, expectedCharts, type PageReport} from "../../scripts/check-pages.js";
import {CSP} from "../../scripts/csp.js";
import {startServer} from "../../scripts/serve.js";
import {changeCity, hasCityFilter, loadPage, openSession, pageMemory} from "../../bench/browser.js";
import {ensureDataset} from "../../bench/data.js";
import {benchDetailRead} from "../../bench/detail-read.js";
import {ARQUERO_CSP, startBenchServer, type BenchServer} from "../../bench/nginx.js";
import {addBaselines, prepareWorkspace, timeBuild} from "../../bench/site.js";

const PAGES = ["/", "/bench/arquero", "/bench/json"];
let temp: string;
let site: string;
let dist: string;
let browser: Browser;
let served: BenchServer;
const servers: Server[] = [];

beforeAll(async () => {
  browser = await launchChromium();
  temp = await mkdtemp(join(tmpdir(), "fundwatch-bench-pages-"));
  // As root, nginx's workers run as www-data: the site must be readable by others.
  await chmod(temp, 0o755);
  const data = await ensureDataset(10_000, temp, () => undefined);
  site = join(temp, "site");
  dist = join(site, "dist");
  await prepareWorkspace(site);
  await timeBuild(site, data.dir, {cold: true, check: false});
  await addBaselines(site, data.dir);
  served = await startBenchServer(dist, "link");
});
afterAll(async () => {
  for (const s of servers) s.close();
  await served?.close();
  await browser?.close();
  if (temp) await rm(temp, {recursive: true, force: true});
});

/** metric@unit → data-value of every figure a page shows. */
const figures = (report: PageReport | undefined): Map<string, string> =>
  new Map((report?.metrics ?? []).map((m) => [`${m.metric}@${m.unit ?? ""}`, m.value]));

describe("the benchmark's pages, served as the benchmark serves them", () => {
  it("sends the deploy headers, the arquero page alone with 'unsafe-eval', and the baselines pre-compressed", async () => {
    expect(ARQUERO_CSP).toContain("script-src 'self' 'unsafe-eval' 'wasm-unsafe-eval'");
    expect(ARQUERO_CSP.replace(" 'unsafe-eval'", "")).toBe(CSP);
    const module = (await readdir(join(dist, "_import", "bench", "baselines"))).find((f) =>
      /^overview-arquero\.[0-9a-f]{8}\.js$/.test(f)
    );
    expect(module).toBeDefined();
    const csp = async (path: string): Promise<string | null> => {
      const response = await fetch(new URL(path, served.nginxUrl), {headers: {"Accept-Encoding": "gzip"}});
      await response.arrayBuffer();
      return response.headers.get("content-security-policy");
    };
    expect(await csp("bench/arquero")).toBe(ARQUERO_CSP);
    expect(await csp("bench/arquero.html")).toBe(ARQUERO_CSP);
    for (const path of ["", "bench/json", "bench/arquero-x", `_import/bench/baselines/${module}`])
      expect(await csp(path), path).toBe(CSP);
    // The baselines' files were given their .gz like the site's, and nginx sends them (gzip_static).
    for (const path of ["bench/json.html", `_import/bench/baselines/${module}`]) {
      expect((await stat(join(dist, `${path}.gz`))).isFile(), path).toBe(true);
      const response = await fetch(new URL(path, served.nginxUrl), {headers: {"Accept-Encoding": "gzip"}});
      await response.arrayBuffer();
      expect(response.headers.get("content-encoding"), path).toBe("gzip");
      expect(response.headers.get("cache-control"), path).toMatch(/no-cache|immutable/);
    }
  });

  for (const search of ["", "?city=640300"]) {
    it(`draws the overview and both baselines with no problem and the same figures${search ? ` (${search})` : ""}`, async () => {
      const reports = await checkPages({
        browser,
        baseUrl: served.nginxUrl,
        pages: PAGES.map((p) => p + search),
        sourceRoot: join(site, "reports")
      });
      for (const report of reports) {
        expect(report.problems, report.path).toEqual([]);
        expect(report.charts, report.path).toBeGreaterThanOrEqual(2);
      }
      const [overview, arquero, json] = reports.map(figures);
      // The baselines draw the overview's KPI cards and its county ranking (its recovery table and the
      // ranking's coverage and schedule columns are not on them): exactly those figures, to the digit.
      const scope = search ? "640300" : "640000";
      const shared = new Map(
        [...(overview ?? [])].filter(
          ([key]) => key.endsWith(`@${scope}`) || /^ranking_(rank|score)@/.test(key)
        )
      );
      expect([...shared.keys()].filter((k) => k.endsWith(`@${scope}`)).length).toBeGreaterThanOrEqual(6);
      expect([...shared.keys()].filter((k) => k.startsWith("ranking_rank@")).length).toBeGreaterThanOrEqual(
        5
      );
      expect(shared.get(`recovery_total_fen@${scope}`)).toMatch(/^\d+$/);
      expect(arquero).toEqual(shared);
      expect(json).toEqual(shared);
    });
  }

  it("without the exception, the site's own CSP stops arquero (why the benchmark needs it)", async () => {
    const {server, url} = await startServer({root: dist});
    servers.push(server);
    const [report] = await checkPages({
      browser,
      baseUrl: url,
      pages: ["/bench/arquero"],
      sourceRoot: join(site, "reports"),
      timeoutMs: 10_000
    });
    expect(report?.charts).toBe(0);
    expect(report?.problems.some((p) => p.includes("unsafe-eval"))).toBe(true);
  });

  it("measures each page's load until live, filter change, memory and bytes through the link", async () => {
    for (const path of PAGES) {
      const session = await openSession(served.origin, "link");
      try {
        const charts = await expectedCharts(join(site, "reports"), path);
        const duckdb = path === "/";
        await served.take();
        const loaded = await loadPage(session, new URL(path.slice(1), served.url).href, {charts, duckdb});
        expect(loaded.firstChart, path).toBeGreaterThan(0);
        expect(loaded.allCharts, path).toBeGreaterThanOrEqual(loaded.firstChart ?? Infinity);
        expect(loaded.live, path).toBeGreaterThanOrEqual(loaded.allCharts ?? Infinity);
        if (duckdb) {
          expect(loaded.duckdbReady, path).toBeGreaterThan(0);
          expect(loaded.live, path).toBeGreaterThanOrEqual(loaded.duckdbReady ?? Infinity);
          // Built without the page check: no first view, every query computed.
          expect(loaded.firstView?.state, path).toBe("none");
          expect(loaded.firstView?.computed, path).toBeGreaterThan(0);
        } else expect(loaded.duckdbReady, path).toBeNull();
        // Bytes as nginx sent them: compressed, so fewer than the files'.
        const traffic = await served.traffic(await served.take());
        const sum = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);
        expect(traffic.requests, path).toBeGreaterThan(10);
        expect(traffic.gzip, path).toBeGreaterThan(0);
        expect(sum(traffic.sent), path).toBeLessThan(sum(traffic.files));
        if (duckdb) expect(traffic.sent.duckdb, path).toBeGreaterThan(1e6);
        const memory = await pageMemory(session);
        expect(memory.jsHeap, path).toBeGreaterThan(1e6);
        expect(memory.tab, path).toBeGreaterThan(memory.jsHeap);
        if (duckdb) {
          expect(memory.wasm, path).toBeGreaterThan(1e6);
          expect(memory.workerHeap, path).toBeGreaterThan(0);
          expect(memory.duckdbReported, path).toBeGreaterThan(0);
          expect(memory.jsAndDuckdb, path).toBeGreaterThan(memory.jsHeap + (memory.wasm ?? 0));
        } else expect(memory.wasm, path).toBeNull();
        expect(await hasCityFilter(session), path).toBe(true);
        const changed = await changeCity(session, "吴忠市", charts);
        expect(changed, path).toBeGreaterThan(0);
        expect(session.problems, path).toEqual([]);
      } finally {
        await session.close();
      }
    }
    expect(await served.errors()).toEqual([]);
  });

  it("reads the detail file fetched whole and by range, with the same answers after a reload", async () => {
    const problems: string[] = [];
    const at = (path: string): string => new URL(path.slice(1), served.url).href;
    const result = await benchDetailRead(served, at, "link", 1, problems, () => undefined);
    for (const mode of ["fetch", "range"] as const) {
      const f = result[mode];
      expect(f.failures, mode).toBe(0);
      expect(f.visits, mode).toBe(2);
      expect(f.wrong_answers, mode).toBe(0);
      expect(f.cold_ms?.median, mode).toBeGreaterThan(0);
      expect(f.reload_ms?.median, mode).toBeGreaterThan(0);
    }
    // Fetched whole: one request for the file on the cold visit, sent pre-compressed; nothing on the
    // reload (the browser's cache holds it: immutable, hashed name).
    expect(result.fetch.cold_requests?.median).toBe(1);
    expect(result.fetch.statuses?.cold).toEqual({"200": 1});
    expect(result.fetch.cold_sent_bytes?.median).toBeGreaterThan(1e5);
    expect(result.fetch.reload_requests?.median).toBe(0);
    // Range reads, as deploy/nginx serves: DuckDB-WASM's ranged request accepts gzip (the browser adds
    // it), nginx's gzip_static answers it 200 with the whole pre-compressed file, and DuckDB-WASM reads
    // that whole. So no 206 at all: the same one request and the same bytes as fetching whole. This is
    // why the SDK keeps fetching whole (README, "Whole files, not HTTP range reads"); if this fails
    // because 206s appear, nginx's answer changed and the choice must be measured again.
    expect(result.range.statuses?.cold).toEqual({"200": 1});
    expect(result.range.cold_sent_bytes?.median).toBe(result.fetch.cold_sent_bytes?.median);
    expect(result.range.reload_requests?.median).toBe(0);
    expect(problems).toEqual([]);
  });
});
