// Negative controls: the page checker must catch every kind of broken page, or a green browser
// suite proves nothing. Includes a real Framework build with a broken import (the build passes,
// the page is broken: only a browser finds it).
import {mkdir, mkdtemp, readFile, rm, writeFile} from "node:fs/promises";
import type {Server} from "node:http";
import {tmpdir} from "node:os";
import {join} from "node:path";
import type {Browser} from "playwright-core";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {launchChromium} from "../../scripts/browser.js";
import {build} from "../../scripts/build.js";
import {checkPages, listPages, settle, type PageReport} from "../../scripts/check-pages.js";
import {copyProject as copyTo} from "../../scripts/copy-project.js";
import {newReport} from "../../scripts/new-report.js";
import {withSiteDb} from "../../scripts/query-check.js";
import {startServer} from "../../scripts/serve.js";

const ROOT = join(import.meta.dirname, "..", "..");
const FIXTURE = join(ROOT, "test", "fixtures", "bad-site");
let browser: Browser;
const servers: Server[] = [];
const temps: string[] = [];

beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  for (const s of servers) s.close();
  for (const t of temps) await rm(t, {recursive: true, force: true});
});

function byPath(reports: PageReport[]): Record<string, string> {
  return Object.fromEntries(reports.map((r) => [r.path, r.problems.join("\n")]));
}

describe("checkPages() on a site with one broken page of each kind", () => {
  let problems: Record<string, string>;
  beforeAll(async () => {
    const {server, url} = await startServer({root: FIXTURE});
    servers.push(server);
    const pages = await listPages(FIXTURE);
    problems = byPath(
      await checkPages({browser, baseUrl: url, pages, sourceRoot: FIXTURE, timeoutMs: 10_000})
    );
  });
  it("passes the good page", () => {
    expect(problems["/"]).toBe("");
  });
  it("flags a Framework error cell", () => {
    expect(problems["/error-cell"]).toMatch(/错误单元格：SyntaxError/);
  });
  it("flags and blocks requests to other origins", () => {
    expect(problems["/external"]).toMatch(/站外地址：https:\/\/fonts\.googleapis\.invalid/);
    expect(problems["/external"]).toMatch(/站外地址：https:\/\/cdn\.jsdelivr\.invalid/);
  });
  it("flags console errors and uncaught errors", () => {
    expect(problems["/console"]).toMatch(/控制台错误：数据文件读取失败/);
    expect(problems["/throws"]).toMatch(/未捕获的错误/);
  });
  it("flags empty charts and pages with fewer charts than declared", () => {
    expect(problems["/empty-chart"]).toMatch(/图表 blank 没有绘出任何图形/);
    expect(problems["/empty-chart"]).toMatch(/图表 nodata 没有数据/);
    expect(problems["/missing-chart"]).toMatch(/应有至少 2 个图表，实际绘出 0 个/);
  });
  it("flags a missing asset and a page without lang=zh-CN", () => {
    expect(problems["/missing-asset"]).toMatch(/HTTP 404/);
    expect(problems["/no-lang"]).toMatch(/lang/);
  });
});

describe("a real Framework build with a broken import", () => {
  async function copyProject(): Promise<string> {
    const temp = await mkdtemp(join(tmpdir(), "fundwatch-broken-"));
    temps.push(temp);
    await copyTo(temp, {data: true});
    return temp;
  }

  it("fails the build when a page imports a module that does not exist", async () => {
    const temp = await copyProject();
    await writeFile(
      join(temp, "reports", "missing.md"),
      '# 坏页面\n\n```js\nimport {formatMoney} from "./sdk/no-such-module.js";\ndisplay(formatMoney(1));\n```\n'
    );
    await expect(build({root: temp, env: {...process.env, FUNDWATCH_BRIEFING: "0"}})).rejects.toThrow(
      /observable build 失败/
    );
  });

  it("builds a page with a misspelt import without complaint; the checker fails that page only", async () => {
    const temp = await copyProject();
    const reports = join(temp, "reports");
    // Framework turns the import into a destructured dynamic import, so the misspelt name is
    // undefined and the page breaks only where it is called: only a browser sees it.
    await writeFile(
      join(reports, "broken.md"),
      '# 坏页面\n\n```js\nimport {rankedBarz} from "./sdk/index.js";\ndisplay(rankedBarz([], {label: String, value: Number}));\n```\n'
    );
    // An analyst's mistakes in a real page: the cell shows a Chinese message naming the mistake.
    await writeFile(
      join(reports, "mistake.md"),
      '# 写错的页面\n\n```js\nimport {openDatabase} from "./sdk/index.js";\nconst db = await openDatabase({fundwatch: FileAttachment("data/fundwatch.duckdb")});\nconst sql = db.sql;\n```\n\n```sql id=rows display=false\nSELECT * FROM inspection\n```\n'
    );
    // What an analyst adds, as the guide says, with no edit outside reports/: a page from the
    // scaffold (in the navigation) and a parameterized page (one per division).
    await newReport("analyst-ranking", "分析员的排名", reports);
    await mkdir(join(reports, "recovery-detail"));
    await writeFile(
      join(reports, "recovery-detail", "[code].md"),
      [
        "---\ntitle: 地区追回明细\ncharts: 1\n---\n",
        "```js",
        'import {openDatabase, recoveryBreakdown, rankedBars, formatMoney} from "../sdk/index.js";',
        'const db = await openDatabase({fundwatch: FileAttachment("../data/fundwatch.duckdb")});',
        'const rows = await recoveryBreakdown(db, "category", {within: observable.params.code});',
        'display(rankedBars(rows, {id: "detail", title: "按违规类别", label: (r) => r.key, value: (r) => r.amount, format: (v) => formatMoney(v)}));',
        "```\n"
      ].join("\n")
    );
    // An analyst's own top 10 in a shape DuckDB-WASM 1.4.3 answers with 0 rows and no error (a CTE with a
    // bound text parameter joined to itself, ORDER BY … LIMIT: docs/upstream/duckdb-wasm-empty-top-n.md).
    // The page draws an empty table with no error: only the comparison with native DuckDB sees it.
    await writeFile(
      join(reports, "top10.md"),
      [
        "# 机构前十\n",
        "```js",
        'import {openDatabase, html} from "./sdk/index.js";',
        'const db = await openDatabase({fundwatch: FileAttachment("data/fundwatch.duckdb")});',
        'const county = "640104";',
        "const rows = await db.sql`WITH mine AS (SELECT * FROM institutions WHERE division_code = ${county}) SELECT a.code, a.name FROM mine AS a JOIN mine AS b ON a.code = b.code ORDER BY a.code LIMIT 10`;",
        'display(html`<p data-metric="top10" data-value=${rows.length}>${rows.length} 家</p>`);',
        "```\n"
      ].join("\n")
    );
    // The briefing is tested on its own (briefing.test.ts); here it would only add half a minute. The
    // build's own page check would refuse to publish these pages (publish.test.ts); here the checker's
    // findings on each page are the subject.
    await build({root: temp, env: {...process.env, FUNDWATCH_BRIEFING: "0"}, check: false});
    const {server, url} = await startServer({root: join(temp, "dist")});
    servers.push(server);
    const all = await listPages(join(temp, "dist"));
    expect(all).toContain("/broken");
    expect(all.filter((p) => p.startsWith("/recovery-detail/"))).toHaveLength(
      all.filter((p) => p.startsWith("/district/")).length
    );
    // Every page but the per-district ones, which share one source: one of them stands for all.
    const one = (prefix: string) => (p: string) => !p.startsWith(prefix) || p === `${prefix}640100`;
    const pages = all.filter(one("/district/")).filter(one("/recovery-detail/"));
    expect(pages).toContain("/district/640100");
    expect(pages).toContain("/recovery-detail/640100");
    const reportsByPath = await checkPages({browser, baseUrl: url, pages, sourceRoot: reports});
    const problems = byPath(reportsByPath);
    expect(problems["/broken"]).toMatch(/rankedBarz is not a function/);
    expect(problems["/mistake"]).toMatch(/错误单元格：.*没有名为「inspection」的表.*inspections/);
    expect(problems["/analyst-ranking"]).toBe("");
    expect(reportsByPath.find((r) => r.path === "/analyst-ranking")?.charts).toBeGreaterThanOrEqual(1);
    expect(problems["/recovery-detail/640100"]).toBe("");
    expect(problems["/"]).toBe("");
    // The top 10 draws no row and no error in the browser; against native DuckDB it fails, naming the SQL.
    expect(reportsByPath.find((r) => r.path === "/top10")?.metrics).toEqual([
      {metric: "top10", value: "0", unit: null, text: "0 家"}
    ]);
    expect(problems["/top10"]).toBe("");
    const compared = await withSiteDb(join(temp, "dist"), (nativeDb) =>
      checkPages({
        browser,
        baseUrl: url,
        pages: ["/top10", "/", "/recovery-detail/640100"],
        sourceRoot: reports,
        nativeDb
      })
    );
    const top10 = compared.find((r) => r.path === "/top10");
    expect(top10?.problems).toEqual([
      expect.stringMatching(
        /^浏览器（DuckDB-WASM）的查询结果意外为空，原生 DuckDB 有 10 行：调用位置 .+；参数 \["640104"\]；SQL：WITH mine AS \(SELECT \* FROM institutions WHERE division_code = \?\)/
      )
    ]);
    // The SDK's own pages, whose filtered views avoid that shape, agree with native DuckDB query by query.
    // (the overview makes two dozen queries; the analyst's detail page one, recoveryBreakdown's).
    for (const [path, queries] of [
      ["/", 20],
      ["/recovery-detail/640100", 1]
    ] as const) {
      const report = compared.find((r) => r.path === path);
      expect(report?.problems, path).toEqual([]);
      expect(report?.queries, path).toBeGreaterThanOrEqual(queries);
    }
    // The scaffolded page is in every page's navigation.
    expect(await readFile(join(temp, "dist", "index.html"), "utf-8")).toContain('href="./analyst-ranking"');
  });
});

describe("settle(): the page check reads a page only when DuckDB-WASM has nothing running", () => {
  // A query that takes long on a loaded machine changes nothing on screen and sends nothing: DOM quiet and
  // network idle alone once let the check read a district page before its last cells drew (full test
  // run of 9dc531f: /district/640100 checked with 11 of its 125 figures). The SDK counts its starts and
  // queries in __fundwatchBusy (src/duckdb/client.ts); here a page reports one running for 2.5 s, quiet.
  it("waits while __fundwatchBusy counts work, then for the page to be quiet after it", async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.setContent(`<main id="out">…</main><script>
        globalThis.__fundwatchBusy = {running: 1, idleSince: 0};
        setTimeout(() => {
          document.getElementById("out").textContent = "done";
          globalThis.__fundwatchBusy = {running: 0, idleSince: performance.now()};
        }, 2500);
      </script>`);
      expect(await settle(page, 30_000)).toBe(true);
      expect(await page.textContent("#out")).toBe("done");
      // And it gives up (false) on work that never ends, rather than reading a half-drawn page.
      await page.evaluate(() => {
        (globalThis as {__fundwatchBusy?: unknown}).__fundwatchBusy = {running: 1, idleSince: 0};
      });
      expect(await settle(page, 2_000)).toBe(false);
    } finally {
      await context.close();
    }
  });
});
