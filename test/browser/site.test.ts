// The real site, built from this checkout: every page opened in headless Chromium must show no
// error, reach no other origin, and render its charts; the figures it shows must equal an
// independent computation in Node. Screenshots are kept in test-results/screenshots/.
import {readdir, readFile, stat} from "node:fs/promises";
import type {Server} from "node:http";
import {join} from "node:path";
import type {Browser, Page} from "playwright-core";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {readCsv} from "../../loaders/csv.js";
import {launchChromium} from "../../scripts/browser.js";
import {build} from "../../scripts/build.js";
import {checkPages, listPages, type PageReport} from "../../scripts/check-pages.js";
import {startServer} from "../../scripts/serve.js";
import {formatMoney} from "../../src/format/money.js";
import {parseAmount} from "../../src/parse/amount.js";
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
});
afterAll(async () => {
  server?.close();
  await browser?.close();
});

/** The amounts in the default input file, summed in Node straight from the CSV text. */
async function expectedAmounts(): Promise<Map<string, bigint>> {
  const csv = await readCsv(join(ROOT, "data", "yinchuan-2018", "recoveries.csv"));
  const code = csv.header.indexOf("单位编码");
  const amount = csv.header.indexOf("金额");
  const totals = new Map<string, bigint>();
  for (const {cells} of csv.rows) {
    const parsed = parseAmount(cells[amount]!);
    if (!parsed.ok) throw new Error(parsed.reason);
    totals.set(cells[code]!, (totals.get(cells[code]!) ?? 0n) + parsed.fen);
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
  it("equal the amounts in the input file, to the fen, per unit and in total", async () => {
    const expected = await expectedAmounts();
    const overview = reports.find((r) => r.path === "/")!;
    const perUnit = overview.metrics.filter((m) => m.metric === "recovery_amount_fen" && m.value !== "");
    expect(new Map(perUnit.map((m) => [m.unit, BigInt(m.value)]))).toEqual(expected);
    const total = [...expected.values()].reduce((a, b) => a + b, 0n);
    const shown = overview.metrics.find((m) => m.metric === "recovery_total_fen")!;
    expect(BigInt(shown.value)).toBe(total);
    expect(shown.text).toBe(formatMoney(total));
  });
  it("show cents as cents (no DECIMAL shown 100× too large) and unpublished amounts as such", () => {
    const overview = reports.find((r) => r.path === "/")!;
    const jinfeng = overview.metrics.find((m) => m.unit === "640106")!;
    expect(jinfeng.text).toBe("38,513.22元");
    const xingqing = overview.metrics.find((m) => m.unit === "640104")!;
    expect(xingqing).toMatchObject({value: "", text: "通报未公布金额"});
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
    await page.goto(new URL(`about${query}`, baseUrl).href);
    return {page, outside, close: () => context.close()};
  }

  it("returns numbers, not BigInt; DECIMAL with its cents; DATE as a Date", async () => {
    const {page, close} = await freshPage();
    const result = await withSdk<Record<string, unknown>>(
      page,
      `const [row] = await db.sql\`SELECT count(*) AS n, 12.34::DECIMAL(10,2) AS d, DATE '2024-05-10' AS day, sum(amount_fen) AS total FROM recoveries\`;
       return {n: typeof row.n, nv: row.n, d: row.d, day: row.day instanceof Date ? row.day.toISOString() : String(row.day), total: row.total, totalType: typeof row.total};`
    );
    await close();
    expect(result).toEqual({
      n: "number",
      nv: 6,
      d: 12.34,
      day: "2024-05-10T00:00:00.000Z",
      total: 236_261_347,
      totalType: "number"
    });
  });
  it("binds parameters: an injection attempt is just a value that matches nothing", async () => {
    const {page, close} = await freshPage();
    const result = await withSdk<unknown[]>(
      page,
      `const a = await db.sql\`SELECT name FROM units WHERE code = \${"640105"}\`;
       const b = await db.sql\`SELECT name FROM units WHERE code = \${"x' OR '1'='1"}\`;
       const c = await db.sql\`SELECT count(*) AS n FROM units\`;
       return [a, b.length, c[0].n];`
    );
    await close();
    expect(result).toEqual([[{name: "西夏区"}], 0, 10]);
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
