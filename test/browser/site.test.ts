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
import {databaseFile} from "../../scripts/briefing.js";
import {build, type BuildResult} from "../../scripts/build.js";
import {
  checkPages,
  listPages,
  openSettled,
  settle,
  watchPage,
  type PageReport
} from "../../scripts/check-pages.js";
import {startServer} from "../../scripts/serve.js";
import {formatMoney} from "../../src/format/money.js";
import {
  institutionsWithFindings,
  largestCases,
  metricByDivision,
  rankDivisions,
  reconcileWeekly,
  recoveryBreakdown,
  weeklyProgress
} from "../../src/metrics/index.js";
import type {FirstViewStats} from "../../src/duckdb/first-view.js";
import type {BusyState} from "../../src/duckdb/client.js";
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
let built: BuildResult;

beforeAll(async () => {
  browser = await launchChromium(); // fails at once, saying how to install Chromium, if it is missing
  // The build opens every page before it publishes (and fails if any page fails); its reports are the
  // page checks below.
  built = await build({screenshotDir: SHOTS});
  reports = built.reports ?? [];
  expect(reports.map((r) => r.path)).toEqual(await listPages(DIST));
  ({server, url: baseUrl} = await startServer({root: DIST}));
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
async function expectedRecoveryByCity(): Promise<Map<string, bigint>> {
  const expected = await expectedRecovery();
  const parent = new Map(
    ingested.tables.get("divisions")!.map((d) => [String(d.code), String(d.parent_code)])
  );
  const byCity = new Map<string, bigint>();
  for (const [county, fen] of expected)
    byCity.set(parent.get(county)!, (byCity.get(parent.get(county)!) ?? 0n) + fen);
  return byCity;
}
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
  it("was published only after the build's page check passed on every page, as build.json records", async () => {
    const info = JSON.parse(await readFile(join(DIST, "build.json"), "utf-8")) as BuildResult["info"];
    expect(info.page_check).toEqual({status: "passed", pages: reports.length});
    expect(info.data.as_of).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(await readdir(join(ROOT, ".fundwatch-build"))).not.toContain("next");
  });
  it("states the build time and the data's as-of date in the footer of every page, 404 included", async () => {
    const info = JSON.parse(await readFile(join(DIST, "build.json"), "utf-8")) as BuildResult["info"];
    const files = [...(await listPages(DIST)).map((p) => (p === "/" ? "/index" : p)), "/404"];
    for (const file of files) {
      const html = await readFile(join(DIST, `${file}.html`), "utf-8");
      expect(html, file).toContain(`<span class="fw-built" data-built-at="${info.built_at}">构建于 `);
      expect(html, file).toContain(`<span class="fw-as-of" data-as-of="${info.data.as_of}">数据截至 `);
      // No inline script (the CSP allows none); the first view's JSON data block is data, never run.
      expect(html, file).not.toMatch(/<script(?![^>]*\s(?:src=|type="application\/json"))[^>]*>/);
    }
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
  it("show each city's recovery and the total equal to an independent computation from the inputs, to the fen", async () => {
    const byCity = await expectedRecoveryByCity();
    const overview = reports.find((r) => r.path === "/")!;
    const perCity = overview.metrics.filter((m) => m.metric === "recovery_amount_fen");
    expect(new Map(perCity.map((m) => [m.unit, BigInt(m.value)]))).toEqual(byCity);
    for (const m of perCity) expect(m.text).toBe(formatMoney(BigInt(m.value), {unit: "元"}));
    const total = [...byCity.values()].reduce((a, b) => a + b, 0n);
    expect(total).toBeGreaterThan(0n);
    const shown = overview.metrics.find((m) => m.metric === "recovery_total_fen")!;
    expect(BigInt(shown.value)).toBe(total);
    expect(shown.text).toBe(formatMoney(total));
  });
  it("show the KPI cards (coverage against its target, inspected, problems, penalties, referrals) as native DuckDB computes them", async () => {
    const overview = reports.find((r) => r.path === "/")!;
    const province = await withNativeSite(async (db) =>
      Object.fromEntries(
        await Promise.all(
          ["coverage", "findings", "penalties", "referrals"].map(
            async (id) => [id, (await metricByDivision(db, id, {level: "省"}))[0]!] as const
          )
        )
      )
    );
    const kpi = (metric: string) => overview.metrics.find((m) => m.metric === metric && m.unit === "640000");
    expect(kpi("coverage")?.value).toBe(String(province.coverage!.value));
    expect(kpi("inspected_institutions")?.value).toBe(String(province.coverage!.numerator));
    expect(kpi("findings")?.value).toBe(String(province.findings!.numerator));
    expect(kpi("penalties")?.value).toBe(String(province.penalties!.numerator));
    expect(kpi("referrals")?.value).toBe(String(province.referrals!.numerator));
    expect(province.referrals!.numerator).toBeGreaterThan(0);
    // The target in force and its deadline at the as-of date (2024-09-27): 100% by 2024-10-31, 80% already due.
    const note = await visit("/", (page) =>
      page.locator('.fw-kpi:has([data-metric="coverage"])').innerText()
    );
    expect(note).toContain("2024年10月31日前应达 100%");
    expect(note).toContain("2024年8月31日前应达 80%");
  });
});

describe("the overview's PDF briefing link", () => {
  it("links the briefing the build printed, which the server sends as a PDF", async () => {
    const href = await visit("/", (page) => page.locator("a[download]").getAttribute("href"));
    expect(href).toBe("./briefing/简报-2024-09-27.pdf");
    const response = await fetch(new URL(href!, baseUrl));
    expect(response.status).toBe(200);
    expect(
      Buffer.from(await response.arrayBuffer())
        .subarray(0, 5)
        .toString()
    ).toBe("%PDF-");
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
      const db = await m.openDatabase({probe: ${JSON.stringify(`/_file/data/${data}`)}});
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
  it("refuses a second data file under a name the page already uses, saying so", async () => {
    // The page opened "fundwatch" on its small file; the full file under the same name would take its place.
    const {page, close} = await freshPage();
    expect(await settle(page, 60_000)).toBe(true);
    const data = (await readdir(join(DIST, "_file", "data"))).find((f) => f.startsWith("fundwatch."))!;
    const sdk = (await readdir(join(DIST, "_import", "sdk"))).find((f) => /^index\.[0-9a-f]+\.js$/.test(f))!;
    const message = await page.evaluate(`(async () => {
      const m = await import(${JSON.stringify(`/_import/sdk/${sdk}`)});
      try { await m.openDatabase({fundwatch: ${JSON.stringify(`/_file/data/${data}`)}}); return "no error"; }
      catch (e) { return e.message; }
    })()`);
    await close();
    expect(message).toMatch(/^本页已用名称「fundwatch」打开了另一个数据文件/);
  });
  it("runs the overview on the mvp bundle too (older intranet browsers)", async () => {
    const [report] = await checkPages({
      browser,
      baseUrl,
      pages: ["/?duckdb=mvp"],
      sourceRoot: join(ROOT, "reports")
    });
    expect(report!.problems).toEqual([]);
    expect(report!.charts).toBe(2);
  });
});

/** Opens `path` at 1366×768 (the common office screen), waits for its figures, and runs `body` on it. */
async function visit<T>(
  path: string,
  body: (page: Page) => Promise<T>,
  {
    media = "screen",
    width = 1366,
    height = 768
  }: {media?: "screen" | "print"; width?: number; height?: number} = {}
): Promise<T> {
  const context = await browser.newContext({viewport: {width, height}});
  try {
    const page = await context.newPage();
    await page.emulateMedia({media});
    await page.goto(new URL(path.replace(/^\//, ""), baseUrl).href);
    await page.waitForSelector("[data-metric]", {timeout: 60_000});
    await page.waitForFunction(
      () => document.querySelectorAll("observablehq-loading").length === 0,
      undefined,
      {
        timeout: 60_000
      }
    );
    await page.waitForTimeout(500);
    return await body(page);
  } finally {
    await context.close();
  }
}

/** Native DuckDB over the site's own database file in dist/: the independent engine for page figures. */
async function withNativeSite<T>(
  body: (db: {query(q: SqlQuery): Promise<Record<string, unknown>[]>}) => Promise<T>
): Promise<T> {
  const file = await databaseFile(DIST);
  const instance = await DuckDBInstance.create(":memory:");
  const conn = await instance.connect();
  try {
    await conn.run(`ATTACH '${file}' AS site (READ_ONLY); USE site`);
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
    const byCity = await expectedRecoveryByCity();
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
    // The reports of the opening sweep over every page (beforeAll).
    const progress = reports.find((r) => r.path === "/progress");
    const quality = reports.find((r) => r.path === "/quality");
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

/** The page's figures: metric → unit → raw value. */
const figures = (report: PageReport, metric: string) =>
  new Map(report.metrics.filter((m) => m.metric === metric).map((m) => [m.unit, m.value]));

describe("the recovery page", () => {
  it("shows the total, each county, each breakdown and the largest cases as native DuckDB computes them", async () => {
    const report = reports.find((r) => r.path === "/recovery");
    expect(report!.problems).toEqual([]);
    const expected = await expectedRecovery();
    const total = [...expected.values()].reduce((a, b) => a + b, 0n);
    expect(report!.metrics.find((m) => m.metric === "recovery_total_fen" && m.unit === null)?.value).toBe(
      String(total)
    );
    const counties = figures(report!, "recovery_total_fen");
    counties.delete(null);
    expect(new Map([...counties].filter(([, v]) => v !== "0").map(([k, v]) => [k, BigInt(v)]))).toEqual(
      expected
    );
    const native = await withNativeSite(async (db) => ({
      kinds: await recoveryBreakdown(db, "institution_kind"),
      levels: await recoveryBreakdown(db, "institution_level"),
      ownership: await recoveryBreakdown(db, "ownership"),
      cases: await largestCases(db, {limit: 20})
    }));
    for (const [metric, rows, dimension] of [
      ["recovery_institution_kind_fen", native.kinds, "institution_kind"],
      ["recovery_institution_level_fen", native.levels, "institution_level"],
      ["recovery_ownership_fen", native.ownership, "ownership"]
    ] as const) {
      expect(figures(report!, metric)).toEqual(
        new Map(rows.map((r) => [`${dimension}:${r.key}`, String(r.amount)]))
      );
      expect(rows.reduce((a, r) => a + BigInt(r.amount), 0n)).toBe(total);
    }
    expect(figures(report!, "case_recovered_fen")).toEqual(
      new Map(native.cases.map((c) => [c.id, String(c.recovered)]))
    );
    expect(native.cases).toHaveLength(20);
  });
});

describe("one page per district", () => {
  it("exists for every city and county of the data", () => {
    const divisions = ingested.tables.get("divisions")!.filter((d) => d.level === "市" || d.level === "县");
    expect(
      reports
        .filter((r) => r.path.startsWith("/district/"))
        .map((r) => r.path)
        .sort()
    ).toEqual(divisions.map((d) => `/district/${String(d.code)}`).sort());
  });
  it.each(["640100", "640104"])(
    "%s: shows its KPIs, rank and institutions as native DuckDB computes them",
    async (code) => {
      const report = reports.find((r) => r.path === `/district/${code}`)!;
      expect(report.problems).toEqual([]);
      expect(report.charts).toBeGreaterThanOrEqual(1);
      const level = code.endsWith("00") ? "市" : "县";
      const native = await withNativeSite(async (db) => ({
        metrics: Object.fromEntries(
          await Promise.all(
            ["coverage", "findings", "recovery_total", "fines", "penalties", "referrals"].map(
              async (id) =>
                [id, (await metricByDivision(db, id, {level})).find((r) => r.code === code)!] as const
            )
          )
        ),
        ranking: (await rankDivisions(db, {level})).rows.find((r) => r.code === code)!,
        institutions: await institutionsWithFindings(db, {filter: {within: code}, limit: 30})
      }));
      for (const [id, row] of Object.entries(native.metrics))
        expect(figures(report, id).get(code), id).toBe(String(row.value));
      expect(figures(report, "ranking_rank").get(code)).toBe(String(native.ranking.rank ?? ""));
      expect(figures(report, "behind_target").get(code)).toBe(String(native.ranking.behindTarget));
      expect(figures(report, "institution_involved_fen")).toEqual(
        new Map(native.institutions.map((i) => [i.code, String(i.amount_involved)]))
      );
      expect(native.institutions.length).toBeGreaterThan(0);
    }
  );
});

describe("the overview filtered to a city", () => {
  it("updates its figures and the URL, and the shared URL restores the same view", async () => {
    const byCity = await expectedRecoveryByCity();
    const context = await browser.newContext({viewport: {width: 1366, height: 768}});
    try {
      const page = await context.newPage();
      await page.goto(baseUrl);
      await page.waitForSelector('[data-metric="recovery_total_fen"][data-unit="640000"]', {timeout: 60_000});
      await page.getByRole("combobox", {name: "地市"}).selectOption({label: "吴忠市"});
      await page.waitForFunction(() => location.search.includes("city=640300"), undefined, {timeout: 30_000});
      const kpi = '[data-metric="recovery_total_fen"][data-unit="640300"]';
      await page.waitForSelector(kpi, {timeout: 30_000});
      expect(await page.getAttribute(kpi, "data-value")).toBe(String(byCity.get("640300")));
      const ranked = async (p: Page) =>
        p.$$eval('[data-metric="ranking_rank"]', (cells) => cells.map((c) => c.getAttribute("data-unit")));
      await page.waitForFunction(() => {
        const n = document.querySelectorAll('[data-metric="ranking_rank"]').length;
        return n > 0 && n < 10;
      });
      const wuzhong = ingested.tables
        .get("divisions")!
        .filter((d) => d.parent_code === "640300")
        .map((d) => String(d.code));
      expect((await ranked(page)).sort()).toEqual(wuzhong.sort());
      const other = await context.newPage();
      await other.goto(page.url());
      await other.waitForSelector(kpi, {timeout: 60_000});
      expect(await other.getAttribute(kpi, "data-value")).toBe(String(byCity.get("640300")));
      await other.waitForFunction(() => {
        const n = document.querySelectorAll('[data-metric="ranking_rank"]').length;
        return n > 0 && n < 10;
      });
      expect(await ranked(other)).toEqual(await ranked(page));
    } finally {
      await context.close();
    }
  });
});

/** Pages whose default view the small data file answers alone, and (the last) a page that lists records. */
const SMALL_FILE_PAGES = ["/", "/districts", "/progress", "/recovery", "/district/640100"];

describe("the pre-baked first view", () => {
  type Figure = PageReport["metrics"][number];
  const figuresOf = (page: Page): Promise<Figure[]> =>
    page.$$eval("[data-metric]", (cells) =>
      cells.map((e) => ({
        metric: e.getAttribute("data-metric") ?? "",
        value: e.getAttribute("data-value") ?? "",
        unit: e.getAttribute("data-unit"),
        text: (e.textContent ?? "").trim()
      }))
    );
  const statsOf = (page: Page): Promise<FirstViewStats | null> =>
    page.evaluate("globalThis.__fundwatchFirstView ?? null") as Promise<FirstViewStats | null>;

  /**
   * Opens `path` as a reader does (the build's viewport), the first view on unless `off`, and reads
   * its figures once it has settled. `html` may rewrite the page's HTML on its way to the browser.
   */
  async function open(
    path: string,
    {off = false, html, figures}: {off?: boolean; html?: (text: string) => string; figures?: number} = {}
  ): Promise<{figures: Figure[]; stats: FirstViewStats | null; search: string; requested: string[]}> {
    const context = await browser.newContext({viewport: {width: 1366, height: 768}, locale: "zh-CN"});
    try {
      if (off) await context.addInitScript("globalThis.__fundwatchFirstViewOff = true");
      const page = await context.newPage();
      // The data files the page asked for (the small one, the full one), by name without their hash.
      const requested: string[] = [];
      page.on("request", (request) => {
        const m = /\/_file\/data\/(fundwatch(?:-core|-first)?)\.[0-9a-f]+\.duckdb$/.exec(
          new URL(request.url()).pathname
        );
        if (m) requested.push(m[1]!);
      });
      const problems: string[] = [];
      await watchPage(page, new URL(baseUrl).origin, problems);
      const url = new URL(path.replace(/^\//, ""), baseUrl).href;
      if (html)
        await page.route(url, async (route) => {
          const response = await route.fetch();
          // Without the old Content-Length: the browser would cut the changed body or wait for more.
          const headers = {...response.headers()};
          delete headers["content-length"];
          await route.fulfill({status: response.status(), headers, body: html(await response.text())});
        });
      await openSettled(page, url, problems, 60_000);
      if (figures !== undefined) {
        // DuckDB-WASM's start can be quiet for longer than the settle window: wait for the figures.
        await page.waitForFunction((n) => document.querySelectorAll("[data-metric]").length >= n, figures, {
          timeout: 60_000
        });
        await settle(page, 60_000);
      }
      expect(problems, path).toEqual([]);
      return {
        figures: await figuresOf(page),
        stats: await statsOf(page),
        search: await page.evaluate("location.search"),
        requested
      };
    } finally {
      await context.close();
    }
  }

  it("is written for every page that queries the data, every default query in it", async () => {
    const info = JSON.parse(await readFile(join(DIST, "build.json"), "utf-8")) as BuildResult["info"];
    const querying = reports.filter((r) => (r.queries ?? 0) > 0);
    expect(querying.length).toBeGreaterThan(30);
    for (const r of querying) {
      expect(r.firstView?.skipped, r.path).toEqual([]);
      expect(r.firstView?.queries, r.path).toBeGreaterThan(0);
    }
    expect(info.first_view).toEqual({
      pages: querying.length,
      queries: querying.reduce((n, r) => n + r.firstView!.queries, 0),
      skipped: []
    });
  });

  it("draws every page's figures before the data file arrives, the same as DuckDB-WASM computes them", async () => {
    // The three data files: the first one every page fetches first, the small one and the full one.
    const data = (await readdir(join(DIST, "_file", "data"))).filter((f) =>
      /^fundwatch(?:-core|-first)?\.[0-9a-f]+\.duckdb$/.test(f)
    );
    expect(data.length).toBe(3);
    for (const report of reports.filter((r) => (r.firstView?.queries ?? 0) > 0)) {
      const context = await browser.newContext({viewport: {width: 1366, height: 768}, locale: "zh-CN"});
      try {
        // The data file is held back until the page has drawn: only the first view can have drawn it.
        let release!: () => void;
        const released = new Promise<void>((resolve) => (release = resolve));
        let asked = false;
        const page = await context.newPage();
        // How many figures the page showed when DuckDB-WASM asked for its first data file, read in the
        // page at the moment of the call (the client fetches the data files with window.fetch).
        await page.addInitScript(`{
          const original = window.fetch;
          window.fetch = function (input, init) {
            const url = typeof input === "string" ? input : String(input && input.url);
            if (/\\/_file\\/data\\/fundwatch(-core|-first)?\\.[0-9a-f]+\\.duckdb/.test(url) && globalThis.__figuresWhenAsked === undefined)
              globalThis.__figuresWhenAsked = document.querySelectorAll("[data-metric]").length;
            return original.call(this, input, init);
          };
        }`);
        const problems: string[] = [];
        await watchPage(page, new URL(baseUrl).origin, problems);
        // A page route, after watchPage's context route: it takes precedence.
        await page.route(
          (url) => data.some((f) => url.pathname.endsWith(`/_file/data/${f}`)),
          async (route) => {
            asked = true;
            await released;
            await route.continue();
          }
        );
        await page.goto(new URL(report.path.replace(/^\//, ""), baseUrl).href, {waitUntil: "load"});
        // (Not "no loading cell": the guide's deliberate error examples wait for DuckDB-WASM.)
        await page
          .waitForFunction(
            (n) => document.querySelectorAll("[data-metric]").length >= n,
            report.metrics.length,
            {
              timeout: 60_000,
              polling: 100
            }
          )
          .catch((error: Error) => {
            throw new Error(`${report.path}：数据文件未到时没有画出全部数字（${error.message}）`);
          });
        expect(await figuresOf(page), report.path).toEqual(report.metrics);
        // DuckDB-WASM did start, in the background.
        await expect.poll(() => asked, {message: report.path, timeout: 30_000}).toBe(true);
        release();
        expect(await settle(page, 60_000), report.path).toBe(true);
        expect(await figuresOf(page), report.path).toEqual(report.metrics);
        const stats = await statsOf(page);
        expect(stats?.state, report.path).toBe("on");
        expect(stats?.served, report.path).toBeGreaterThan(0);
        // Only a query DuckDB-WASM refuses (the guide's error examples) is not in the first view.
        expect(stats?.computed, report.path).toBe(stats?.failed);
        // DuckDB-WASM's start waited for the page to draw (its wasm and data would share the link
        // with the page's own files): every figure was there when it asked for the data. A page
        // with a query the first view cannot hold (the guide's errors) starts it at once.
        if (stats?.computed === 0)
          expect(await page.evaluate("globalThis.__figuresWhenAsked"), report.path).toBe(
            report.metrics.length
          );
        expect(problems, report.path).toEqual([]);
      } finally {
        await context.close();
      }
    }
  });

  it("shows the same figures after a filter change and back, and DuckDB-WASM answers the change", async () => {
    const overview = reports.find((r) => r.path === "/")!;
    const context = await browser.newContext({viewport: {width: 1366, height: 768}, locale: "zh-CN"});
    try {
      const page = await context.newPage();
      const problems: string[] = [];
      await watchPage(page, new URL(baseUrl).origin, problems);
      await openSettled(page, baseUrl, problems, 60_000);
      expect(await figuresOf(page)).toEqual(overview.metrics);
      // The SDK counted DuckDB-WASM's start (in the background) and let the check's settle() see it end.
      const busy = await page.evaluate(() => (globalThis as {__fundwatchBusy?: BusyState}).__fundwatchBusy);
      expect(busy?.running).toBe(0);
      expect(busy?.idleSince).toBeGreaterThan(0);
      const city = page.getByRole("combobox", {name: "地市"});
      await city.selectOption({label: "吴忠市"});
      await page.waitForFunction(() => location.search.includes("city=640300"), undefined, {timeout: 30_000});
      expect(await settle(page, 60_000)).toBe(true);
      const filtered = await figuresOf(page);
      expect(filtered).not.toEqual(overview.metrics);
      expect((await statsOf(page))?.computed).toBeGreaterThan(0);
      // The same filter opened from its URL with the first view off: DuckDB-WASM alone.
      expect(filtered).toEqual((await open("/?city=640300", {off: true})).figures);
      await city.selectOption({label: "全部"});
      await page.waitForFunction(() => location.search === "", undefined, {timeout: 30_000});
      expect(await settle(page, 60_000)).toBe(true);
      expect(await figuresOf(page)).toEqual(overview.metrics);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("never answers a URL with a query string from it: DuckDB-WASM computes that filter", async () => {
    const overview = reports.find((r) => r.path === "/")!;
    const on = await open("/?city=640300");
    expect(on.search).toBe("?city=640300");
    expect(on.stats).toMatchObject({state: "on", served: 0});
    expect(on.stats?.computed).toBeGreaterThan(0);
    expect(on.figures).not.toEqual(overview.metrics);
    const off = await open("/?city=640300", {off: true});
    expect(off.stats).toMatchObject({state: "off", served: 0});
    expect(on.figures).toEqual(off.figures);
  });

  it("(the small file first) is all a page's default view and filters fetch, unless a query reads the records: then the full file, with the same figures", async () => {
    const files = (await readdir(join(DIST, "_file", "data"))).filter((f) =>
      /^fundwatch(?:-core|-first)?\.[0-9a-f]+\.duckdb$/.test(f)
    );
    const size = async (prefix: string) =>
      (
        await stat(
          join(
            DIST,
            "_file",
            "data",
            files.find((f) => f.startsWith(prefix))!
          )
        )
      ).size;
    expect(await size("fundwatch-first.")).toBeLessThan(await size("fundwatch-core."));
    expect(await size("fundwatch-core.")).toBeLessThan(await size("fundwatch."));
    // DuckDB-WASM computes every figure (first view off), from the small file alone where it can.
    const fetched: Record<string, string[]> = {};
    for (const path of SMALL_FILE_PAGES) {
      const report = reports.find((r) => r.path === path)!;
      const opened = await open(path, {off: true, figures: report.metrics.length});
      expect(opened.figures, path).toEqual(report.metrics);
      fetched[path] = opened.requested;
    }
    // A filter too: the city's figures come from the small file.
    const city = await open("/?city=640300", {off: true});
    expect(city.figures.length).toBeGreaterThan(0);
    fetched["/?city=640300"] = city.requested;
    // The largest cases of a city: from the small file's cube_top_cases (no date, 20 cases).
    const cases = await open("/recovery?city=640300", {off: true});
    expect(cases.figures.length).toBeGreaterThan(0);
    fetched["/recovery?city=640300"] = cases.requested;
    // A date: the cube's tables by day, in the small file, fetched after the first one.
    const dated = await open("/?city=640300&to=2024-08-31", {off: true});
    expect(dated.figures.length).toBeGreaterThan(0);
    expect(dated.figures).not.toEqual(city.figures);
    fetched["/?city=640300&to=2024-08-31"] = dated.requested;
    expect(fetched).toEqual({
      ...Object.fromEntries(SMALL_FILE_PAGES.map((p) => [p, ["fundwatch-first"]])),
      "/?city=640300": ["fundwatch-first"],
      "/recovery?city=640300": ["fundwatch-first"],
      "/?city=640300&to=2024-08-31": ["fundwatch-first", "fundwatch-core"],
      // A district's institutions with their findings list records: the full file is fetched after
      // the first one.
      "/district/640100": ["fundwatch-first", "fundwatch"]
    });
  });

  it("is not used by a page beside another data file than it was made for", async () => {
    const recovery = reports.find((r) => r.path === "/recovery")!;
    let replaced = false;
    const stale = await open("/recovery", {
      figures: recovery.metrics.length,
      html: (text) =>
        text.replace(/"fundwatch":"_file\/data\/fundwatch\./, () => {
          replaced = true;
          return '"fundwatch":"_file/data/fundwatch.old.';
        })
    });
    expect(replaced).toBe(true);
    expect(stale.stats).toMatchObject({state: "stale", served: 0});
    expect(stale.figures).toEqual(recovery.metrics);
  });
});

const MAIN_PAGES = ["/", "/districts", "/recovery", "/progress", "/quality", "/district/640100"];

describe("reading and printing", () => {
  it.each(MAIN_PAGES)(
    "%s fits a 1366×768 screen: no sideways scrolling, title and as-of date in the first view",
    async (path) => {
      const layout = await visit(path, (page) =>
        page.evaluate(() => ({
          scrollWidth: document.documentElement.scrollWidth,
          h1: document.querySelector("h1")?.getBoundingClientRect().bottom ?? Infinity,
          stamp: document.querySelector(".fw-stamp")?.getBoundingClientRect().bottom ?? Infinity,
          wide: Array.from(document.querySelectorAll("#observablehq-main table, #observablehq-main figure"))
            .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
            .map((e) => e.outerHTML.slice(0, 80))
        }))
      );
      expect(layout.scrollWidth).toBeLessThanOrEqual(1366);
      expect(layout.h1).toBeLessThan(768);
      expect(layout.stamp).toBeLessThan(768);
      expect(layout.wide).toEqual([]);
    }
  );
  it.each(MAIN_PAGES)(
    "%s prints to A4: header with title and as-of date, no navigation or filters, nothing cut at the right",
    async (path) => {
      // A4 is 210 mm; less 2 × 12 mm margins that is 186 mm, about 703 CSS pixels.
      const printed = await visit(
        path,
        (page) =>
          page.evaluate(() => {
            const visible = (e: Element | null) => !!e && getComputedStyle(e).display !== "none";
            return {
              header:
                document.querySelector(".fw-print-header")?.textContent?.replace(/\s+/g, " ").trim() ?? "",
              headerShown: visible(document.querySelector(".fw-print-header")),
              navShown: visible(document.querySelector("#observablehq-sidebar")),
              filtersShown: Array.from(document.querySelectorAll(".fw-filter-bar")).some(visible),
              cut: Array.from(
                document.querySelectorAll("#observablehq-main table, #observablehq-main svg, .card")
              )
                .filter((e) => e.getBoundingClientRect().right > 703 + 1)
                .map((e) => `${e.tagName} ${e.getBoundingClientRect().right}`)
            };
          }),
        {media: "print", width: 703, height: 1000}
      );
      expect(printed.headerShown).toBe(true);
      expect(printed.header).toMatch(/^医保基金监管分析 · .+数据截至 2024年9月27日$/);
      expect(printed.navShown).toBe(false);
      expect(printed.filtersShown).toBe(false);
      expect(printed.cut).toEqual([]);
    }
  );
  it.each(MAIN_PAGES)("%s: every chart has a title and a text alternative", async (path) => {
    const charts = await visit(path, (page) =>
      page.$$eval("figure[data-fw-chart]", (figures) =>
        figures.map((f) => ({
          id: f.getAttribute("data-fw-chart"),
          title: f.querySelector("h3")?.textContent?.trim() ?? "",
          label: f.querySelector("svg[aria-label]")?.getAttribute("aria-label") ?? "",
          description: f.querySelector("svg[aria-description]")?.getAttribute("aria-description") ?? ""
        }))
      )
    );
    for (const c of charts) {
      expect(c.title, c.id!).toMatch(/[\u4e00-\u9fff]/);
      expect(c.label, c.id!).toMatch(/[\u4e00-\u9fff]/);
      expect(c.description.length, c.id!).toBeGreaterThan(10);
    }
  });
  it("sorts a table from the keyboard alone", async () => {
    await visit("/recovery", async (page) => {
      const header = page.locator("table.fw-sortable th").filter({hasText: "处理日期"}).first();
      const button = header.locator("button");
      await button.focus();
      await page.keyboard.press("Enter");
      expect(await header.getAttribute("aria-sort")).toBe("ascending");
      const dates = await page
        .locator("table.fw-sortable:has(th:has-text('处理日期')) td[data-metric='case_recovered_fen']")
        .count();
      expect(dates).toBe(20);
      await page.keyboard.press("Space");
      expect(await header.getAttribute("aria-sort")).toBe("descending");
    });
  });
});
