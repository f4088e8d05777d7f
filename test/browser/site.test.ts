// The real site, built from this checkout: every page opened in headless Chromium must show no
// error, reach no other origin, and render its charts; the figures it shows must equal an
// independent computation in Node. Screenshots are kept in test-results/screenshots/.
import {readdir, readFile, stat} from "node:fs/promises";
import type {Server} from "node:http";
import {join} from "node:path";
import type {Browser, Page} from "playwright-core";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {inputDirectory} from "../../loaders/fundwatch-db.js";
import {ingest, type IngestResult} from "../../loaders/ingest.js";
import {launchChromium} from "../../scripts/browser.js";
import {build} from "../../scripts/build.js";
import {checkPages, listPages, type PageReport} from "../../scripts/check-pages.js";
import {startServer} from "../../scripts/serve.js";
import {formatMoney} from "../../src/format/money.js";
import {metricByDivision, rankDivisions, reconcileWeekly, weeklyProgress} from "../../src/metrics/index.js";
import type {SqlQuery} from "../../src/sql/template.js";
import {DuckDBInstance} from "@duckdb/node-api";
import config from "../../observablehq.config.js";

const ROOT = join(import.meta.dirname, "..", "..");
const DIST = join(ROOT, "dist");
const SHOTS = join(ROOT, "test-results", "screenshots");
let browser: Browser;
let server: Server;
let baseUrl: string;
let reports: PageReport[];

beforeAll(async () => {
  browser = await launchChromium(); // fails at once, saying how to install Chromium, if it is missing
  await build();
  ({server, url: baseUrl} = await startServer({root: DIST}));
  reports = await checkPages({
    browser,
    baseUrl,
    pages: await listPages(DIST),
    sourceRoot: join(ROOT, "reports"),
    screenshotDir: SHOTS
  });
  await expectedRecovery();
});
afterAll(async () => {
  server?.close();
  await browser?.close();
});

/**
 * Recovery (追回 + 拒付 + 扣回) per county-level division, computed in Node from the ingested rows
 * with plain Maps: an independent path from the page's SQL in DuckDB-WASM.
 */
let ingested: IngestResult;
async function expectedRecovery(): Promise<Map<string, bigint>> {
  ingested ??= await ingest([inputDirectory(ROOT)], {root: inputDirectory(ROOT)});
  const rows = (name: string) => ingested.tables.get(name) ?? [];
  const inspectionOfFinding = new Map(rows("findings").map((f) => [f.id, f.inspection_id]));
  const institutionOfInspection = new Map(rows("inspections").map((i) => [i.id, i.institution_code]));
  const divisionOfInstitution = new Map(rows("institutions").map((i) => [i.code, i.division_code]));
  const totals = new Map<string, bigint>();
  for (const d of rows("dispositions")) {
    if (!["追回", "拒付", "扣回"].includes(String(d.action))) continue;
    const inspection = d.finding_id === null ? d.inspection_id : inspectionOfFinding.get(d.finding_id);
    const division = String(divisionOfInstitution.get(institutionOfInspection.get(inspection)));
    totals.set(division, (totals.get(division) ?? 0n) + (d.amount as bigint));
  }
  return totals;
}

describe("every page of the built site", () => {
  it("includes every page in the navigation", () => {
    const paths = reports.map((r) => r.path);
    for (const page of config.pages) expect(paths).toContain(page.path);
  });
  it("opens with no error cell, error, off-site request or missing chart", () => {
    const problems = Object.fromEntries(reports.map((r) => [r.path, r.problems]));
    expect(problems).toEqual(Object.fromEntries(reports.map((r) => [r.path, []])));
  });
  it("keeps a screenshot of each page", async () => {
    for (const r of reports) expect((await stat(r.screenshot!)).size).toBeGreaterThan(10_000);
  });
  it("references no outside origin in any HTML or CSS file of dist/", async () => {
    const outside: string[] = [];
    async function walk(dir: string): Promise<void> {
      for (const entry of await readdir(dir, {withFileTypes: true})) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) await walk(path);
        else if (/\.(html|css)$/.test(entry.name)) {
          const text = await readFile(path, "utf-8");
          for (const m of text.matchAll(
            /(?:src|href)\s*=\s*["']?(https?:)?\/\/[^"'\s>]+|url\(\s*["']?(?:https?:)?\/\/[^)]+\)|@import\s+url\(["']?https?:/g
          )) {
            outside.push(`${path.slice(DIST.length)}: ${m[0]}`);
          }
        }
      }
    }
    await walk(DIST);
    expect(outside).toEqual([]);
  });
});

describe("the overview's figures", () => {
  it("equal an independent computation from the inputs, to the fen, per district and in total", async () => {
    const expected = await expectedRecovery();
    const overview = reports.find((r) => r.path === "/")!;
    const perDistrict = overview.metrics.filter((m) => m.metric === "recovery_amount_fen" && m.value !== "");
    expect(new Map(perDistrict.map((m) => [m.unit, BigInt(m.value)]))).toEqual(expected);
    const total = [...expected.values()].reduce((a, b) => a + b, 0n);
    expect(total).toBeGreaterThan(0n);
    const shown = overview.metrics.find((m) => m.metric === "recovery_total_fen")!;
    expect(BigInt(shown.value)).toBe(total);
    expect(shown.text).toBe(formatMoney(total));
  });
  it("show cents as cents (no DECIMAL shown 100× too large) and a district with no recovery as such", async () => {
    const expected = await expectedRecovery();
    const overview = reports.find((r) => r.path === "/")!;
    const shown = overview.metrics.filter((m) => m.metric === "recovery_amount_fen");
    for (const m of shown) {
      const fen = expected.get(m.unit!);
      expect(m.text, m.unit!).toBe(fen === undefined ? "暂无" : formatMoney(fen, {unit: "元"}));
    }
    const counties = ingested.tables.get("divisions")!.filter((d) => d.level === "县");
    expect(shown).toHaveLength(counties.length);
  });
});

describe("the overview's lagging-district ranking", () => {
  it("shows the ranking, score and target flag that native DuckDB computes from the site's own data file", async () => {
    const ranking = await withNativeSite((db) => rankDivisions(db));
    const overview = reports.find((r) => r.path === "/")!;
    const shown = (metric: string) =>
      new Map(overview.metrics.filter((m) => m.metric === metric).map((m) => [m.unit!, m.value]));
    expect(shown("ranking_rank")).toEqual(new Map(ranking.rows.map((r) => [r.code, String(r.rank ?? "")])));
    expect(shown("ranking_score")).toEqual(new Map(ranking.rows.map((r) => [r.code, String(r.score ?? "")])));
    expect(shown("behind_target")).toEqual(
      new Map(ranking.rows.map((r) => [r.code, String(r.behindTarget)]))
    );
    expect(ranking.rows.filter((r) => r.lagging).length).toBeGreaterThan(0);
  });
});

describe("the data page", () => {
  it("accounts for every input row as the ingest does: read = loaded + rejected, every reject listed", () => {
    const about = reports.find((r) => r.path === "/quality")!;
    const shown = (metric: string) =>
      new Map(about.metrics.filter((m) => m.metric === metric).map((m) => [m.unit, Number(m.value)]));
    const files = ingested.files;
    expect(shown("rows_read")).toEqual(new Map(files.map((f) => [f.file, f.rows_read])));
    expect(shown("rows_loaded")).toEqual(new Map(files.map((f) => [f.file, f.rows_loaded])));
    expect(shown("rows_rejected")).toEqual(new Map(files.map((f) => [f.file, f.rows_rejected])));
    for (const f of files) expect(f.rows_read, f.file).toBe(f.rows_loaded + f.rows_rejected);
    const rejects = about.metrics.filter((m) => m.metric === "reject").map((m) => [m.unit, Number(m.value)]);
    expect(rejects.length).toBeGreaterThan(0);
    expect(rejects).toEqual(
      ingested.rejects
        .map((r) => [r.file, r.line] as [string, number])
        .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]))
    );
  });
});

describe("the SDK's DuckDB-WASM client in the browser", () => {
  async function withSdk<T>(page: Page, body: string): Promise<T> {
    const files = await readdir(join(DIST, "_import", "sdk"));
    const sdk = files.find((f) => /^index\.[0-9a-f]+\.js$/.test(f))!;
    const data = (await readdir(join(DIST, "_file", "data"))).find((f) => f.startsWith("fundwatch."))!;
    // A string, not a function: vitest would rewrite import() inside a function body.
    const script = `(async () => {
      const m = await import(${JSON.stringify(`/_import/sdk/${sdk}`)});
      const db = await m.openDatabase({fundwatch: ${JSON.stringify(`/_file/data/${data}`)}});
      ${body}
    })()`;
    return page.evaluate(script) as Promise<T>;
  }

  async function freshPage(query = ""): Promise<{page: Page; outside: string[]; close: () => Promise<void>}> {
    const context = await browser.newContext();
    const outside: string[] = [];
    await context.route("**/*", (route) => {
      const url = route.request().url();
      if (
        new URL(url).origin === new URL(baseUrl).origin ||
        url.startsWith("blob:") ||
        url.startsWith("data:")
      )
        return route.continue();
      outside.push(url);
      return route.abort("blockedbyclient");
    });
    const page = await context.newPage();
    await page.goto(new URL(`quality${query}`, baseUrl).href);
    return {page, outside, close: () => context.close()};
  }

  it("returns numbers, not BigInt; DECIMAL with its cents; DATE as a Date", async () => {
    const {page, close} = await freshPage();
    const result = await withSdk<Record<string, unknown>>(
      page,
      `const [row] = await db.sql\`SELECT count(*) AS n, 12.34::DECIMAL(10,2) AS d, DATE '2024-05-10' AS day, sum(amount) AS total FROM dispositions\`;
       return {n: typeof row.n, nv: row.n, d: row.d, day: row.day instanceof Date ? row.day.toISOString() : String(row.day), total: row.total, totalType: typeof row.total};`
    );
    await close();
    const dispositions = ingested.tables.get("dispositions")!;
    expect(result).toEqual({
      n: "number",
      nv: dispositions.length,
      d: 12.34,
      day: "2024-05-10T00:00:00.000Z",
      total: Number(dispositions.reduce((sum, d) => sum + ((d.amount as bigint | null) ?? 0n), 0n)),
      totalType: "number"
    });
  });
  it("binds parameters: an injection attempt is just a value that matches nothing", async () => {
    const {page, close} = await freshPage();
    const result = await withSdk<unknown[]>(
      page,
      `const a = await db.sql\`SELECT name FROM divisions WHERE code = \${"640105"}\`;
       const b = await db.sql\`SELECT name FROM divisions WHERE code = \${"x' OR '1'='1"}\`;
       const c = await db.sql\`SELECT count(*) AS n FROM divisions\`;
       return [a, b.length, c[0].n];`
    );
    await close();
    expect(result).toEqual([[{name: "西夏区"}], 0, ingested.tables.get("divisions")!.length]);
  });
  it("refuses a query that needs an extension, at once and in Chinese, fetching nothing", async () => {
    const {page, outside, close} = await freshPage();
    const message = await withSdk<string>(
      page,
      `try { await db.sql\`SELECT * FROM read_parquet('x.parquet')\`; return "no error"; } catch (e) { return e.message; }`
    );
    await close();
    expect(message).toMatch(/^查询失败/);
    expect(message).toMatch(/SQL：SELECT \* FROM read_parquet/);
    expect(outside).toEqual([]);
  });
  it("runs the overview on the mvp bundle too (older intranet browsers)", async () => {
    const [report] = await checkPages({
      browser,
      baseUrl,
      pages: ["/?duckdb=mvp"],
      sourceRoot: join(ROOT, "reports")
    });
    expect(report!.problems).toEqual([]);
    expect(report!.charts).toBe(1);
  });
});

/** Native DuckDB over the site's own database file in dist/: the independent engine for page figures. */
async function withNativeSite<T>(
  body: (db: {query(q: SqlQuery): Promise<Record<string, unknown>[]>}) => Promise<T>
): Promise<T> {
  const file = (await readdir(join(DIST, "_file", "data"))).find((f) => /^fundwatch\..*duckdb$/.test(f));
  expect(file).toBeDefined();
  const instance = await DuckDBInstance.create(":memory:");
  const conn = await instance.connect();
  try {
    await conn.run(`ATTACH '${join(DIST, "_file", "data", file!)}' AS site (READ_ONLY); USE site`);
    return await body({
      async query(q) {
        return (await conn.runAndReadAll(q.text, q.params as never)).getRowObjectsJS() as Record<
          string,
          unknown
        >[];
      }
    });
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

describe("the district comparison page", () => {
  it("shows each city's recovery equal to the independent Node computation, to the fen", async () => {
    const [report] = await checkPages({
      browser,
      baseUrl,
      pages: ["/districts?metric=recovery_total&level=市"],
      sourceRoot: join(ROOT, "reports")
    });
    expect(report!.problems).toEqual([]);
    const expected = await expectedRecovery();
    const parent = new Map(
      ingested.tables.get("divisions")!.map((d) => [String(d.code), String(d.parent_code)])
    );
    const byCity = new Map<string, bigint>();
    for (const [county, fen] of expected)
      byCity.set(parent.get(county)!, (byCity.get(parent.get(county)!) ?? 0n) + fen);
    const shown = report!.metrics.filter((m) => m.metric === "recovery_total");
    expect(new Map(shown.map((m) => [m.unit!, BigInt(m.value)]))).toEqual(byCity);
    for (const m of shown) expect(m.text).toBe(formatMoney(BigInt(m.value)));
  });
  it("updates the figures and the URL when a filter changes, and the URL restores the same view", async () => {
    const context = await browser.newContext({viewport: {width: 1366, height: 768}});
    try {
      const page = await context.newPage();
      await page.goto(new URL("districts", baseUrl).href);
      await page.waitForSelector('[data-metric="coverage"]', {timeout: 60_000});
      const before = await page.$$eval('[data-metric="coverage"]', (cells) => cells.length);
      await page.getByRole("combobox", {name: "地市"}).selectOption({label: "银川市"});
      await page.waitForFunction(() => location.search.includes("city=640100"), undefined, {timeout: 30_000});
      await page.waitForFunction(
        (n) => document.querySelectorAll('[data-metric="coverage"]').length !== n,
        before,
        {timeout: 30_000}
      );
      const read = () =>
        page.$$eval('[data-metric="coverage"]', (cells) =>
          cells.map((c) => [c.getAttribute("data-unit"), c.getAttribute("data-value")] as [string, string])
        );
      const filtered = await read();
      const url = page.url();
      expect(new URL(url).searchParams.get("city")).toBe("640100");
      const yinchuan = ingested.tables
        .get("divisions")!
        .filter((d) => d.parent_code === "640100")
        .map((d) => String(d.code))
        .sort();
      expect(filtered.map(([code]) => code).sort()).toEqual(yinchuan);
      const expected = await withNativeSite((db) =>
        metricByDivision(db, "coverage", {level: "县", filter: {within: "640100"}})
      );
      expect(new Map(filtered)).toEqual(
        new Map(expected.filter((r) => yinchuan.includes(r.code)).map((r) => [r.code, String(r.value)]))
      );
      // A second reader opening the shared link sees exactly the same view.
      const other = await context.newPage();
      await other.goto(url);
      await other.waitForSelector('[data-metric="coverage"]', {timeout: 60_000});
      await other.waitForFunction(
        () => document.querySelectorAll('[data-metric="coverage"]').length < 20,
        undefined,
        {
          timeout: 30_000
        }
      );
      expect(
        await other.$$eval('[data-metric="coverage"]', (cells) =>
          cells.map((c) => [c.getAttribute("data-unit"), c.getAttribute("data-value")])
        )
      ).toEqual(filtered);
      expect(
        await other
          .getByRole("combobox", {name: "地市"})
          .evaluate((e) => (e as HTMLSelectElement).selectedOptions[0]?.textContent)
      ).toBe("银川市");
    } finally {
      await context.close();
    }
  });
});

describe("the progress and data-quality pages", () => {
  it("show the province's coverage by the last Friday and the weekly reconciliation as native DuckDB computes them", async () => {
    const [progress, quality] = await checkPages({
      browser,
      baseUrl,
      pages: ["/progress", "/quality"],
      sourceRoot: join(ROOT, "reports")
    });
    const {weeks, reconciled} = await withNativeSite(async (db) => ({
      weeks: await weeklyProgress(db, {level: "省", from: "2024-05-15", to: "2024-09-27"}),
      reconciled: await reconcileWeekly(db)
    }));
    const value = (report: PageReport, metric: string) =>
      report.metrics.find((m) => m.metric === metric)?.value;
    expect(value(progress!, "coverage_province")).toBe(String(weeks.at(-1)!.coverage));
    expect(value(progress!, "recovered_province_fen")).toBe(String(weeks.at(-1)!.recovered));
    expect(value(quality!, "reconcile_off")).toBe(
      String(reconciled.filter((r) => r.status === "不一致").length)
    );
    expect(value(quality!, "reconcile_ok")).toBe(
      String(reconciled.filter((r) => r.status === "一致").length)
    );
  });
});
