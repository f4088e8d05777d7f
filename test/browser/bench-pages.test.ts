// The benchmark's site as `npm run bench` builds and serves it, on its smallest dataset: the overview
// and both baselines (arquero over Arrow, precomputed JSON) must draw their charts in Chromium with no
// problem and show the same figures, and the harness's own measures (load, filter change) must finish
// on them. Without this, a change elsewhere (the strict CSP of #8 did) can leave a baseline drawing
// nothing while the benchmark still "runs", reporting NaN where its figures should be.
import {mkdtemp, rm} from "node:fs/promises";
import type {Server} from "node:http";
import {tmpdir} from "node:os";
import {join} from "node:path";
import type {Browser} from "playwright-core";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {launchChromium} from "../../scripts/browser.js";
import {checkPages, expectedCharts, type PageReport} from "../../scripts/check-pages.js";
import {CSP} from "../../scripts/csp.js";
import {startServer} from "../../scripts/serve.js";
import {
  ARQUERO_CSP,
  benchSecurityHeaders,
  changeCity,
  loadUntilCharts,
  openSession,
  startLoggingServer
} from "../../bench/browser.js";
import {ensureDataset} from "../../bench/data.js";
import {addBaselines, prepareWorkspace, timeBuild} from "../../bench/site.js";

const PAGES = ["/", "/bench/arquero", "/bench/json"];
let temp: string;
let site: string;
let dist: string;
let browser: Browser;
const servers: Server[] = [];

beforeAll(async () => {
  browser = await launchChromium();
  temp = await mkdtemp(join(tmpdir(), "fundwatch-bench-pages-"));
  const data = await ensureDataset(10_000, temp, () => undefined);
  site = join(temp, "site");
  dist = join(site, "dist");
  await prepareWorkspace(site);
  await timeBuild(site, data.dir, true);
  await addBaselines(site, data.dir);
});
afterAll(async () => {
  for (const s of servers) s.close();
  await browser?.close();
  if (temp) await rm(temp, {recursive: true, force: true});
});

async function serve(headers?: typeof benchSecurityHeaders): Promise<string> {
  const {server, url} = await startServer({root: dist, ...(headers ? {securityHeaders: headers} : {})});
  servers.push(server);
  return url;
}

/** metric@unit → data-value of every figure a page shows. */
const figures = (report: PageReport | undefined): Map<string, string> =>
  new Map((report?.metrics ?? []).map((m) => [`${m.metric}@${m.unit ?? ""}`, m.value]));

describe("the benchmark's pages, served as the benchmark serves them", () => {
  it("relaxes the CSP for the arquero page alone, by 'unsafe-eval' only", () => {
    expect(benchSecurityHeaders("/bench/arquero")["Content-Security-Policy"]).toBe(ARQUERO_CSP);
    expect(benchSecurityHeaders("/bench/arquero.html")["Content-Security-Policy"]).toBe(ARQUERO_CSP);
    expect(ARQUERO_CSP).toContain("script-src 'self' 'unsafe-eval' 'wasm-unsafe-eval'");
    expect(ARQUERO_CSP.replace(" 'unsafe-eval'", "")).toBe(CSP);
    for (const path of [
      "/",
      "/bench/json",
      "/bench/arquero-x",
      "/_import/bench/baselines/overview-arquero.js"
    ])
      expect(benchSecurityHeaders(path)["Content-Security-Policy"]).toBe(CSP);
  });

  for (const search of ["", "?city=640300"]) {
    it(`draws the overview and both baselines with no problem and the same figures${search ? ` (${search})` : ""}`, async () => {
      const baseUrl = await serve(benchSecurityHeaders);
      const reports = await checkPages({
        browser,
        baseUrl,
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
    const baseUrl = await serve();
    const [report] = await checkPages({
      browser,
      baseUrl,
      pages: ["/bench/arquero"],
      sourceRoot: join(site, "reports"),
      timeoutMs: 10_000
    });
    expect(report?.charts).toBe(0);
    expect(report?.problems.some((p) => p.includes("unsafe-eval"))).toBe(true);
  });

  it("measures each baseline's load and filter change through the throttled link", async () => {
    const served = await startLoggingServer(dist, "link");
    try {
      for (const path of ["/bench/arquero", "/bench/json"]) {
        const session = await openSession(new URL(served.url).origin, "link");
        try {
          const charts = await expectedCharts(join(site, "reports"), path);
          const loaded = await loadUntilCharts(session, new URL(path.slice(1), served.url).href, charts);
          expect(loaded, path).toBeGreaterThan(0);
          const changed = await changeCity(session, "吴忠市", charts);
          expect(changed, path).toBeGreaterThan(0);
          expect(session.problems, path).toEqual([]);
        } finally {
          await session.close();
        }
      }
    } finally {
      served.close();
    }
  });
});
