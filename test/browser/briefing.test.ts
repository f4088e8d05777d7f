// The PDF briefing that `npm run build` writes: one A4 PDF with the overview and one section per city,
// each section also kept on its own; never written when a page is broken; and a build with no Chromium
// still succeeds and says so. Cities and the as-of date are read here with native DuckDB, independently.
import {cp, mkdir, mkdtemp, readdir, readFile, rm, stat} from "node:fs/promises";
import {hostname, tmpdir} from "node:os";
import {join} from "node:path";
import {DuckDBInstance} from "@duckdb/node-api";
import {PDFDict, PDFDocument, PDFName, PDFNumber, PDFRawStream} from "pdf-lib";
import {afterAll, beforeAll, describe, expect, it, vi} from "vitest";
import {writeBriefing} from "../../scripts/briefing.js";
import {findChromium} from "../../scripts/browser.js";
import {briefingStep, build} from "../../scripts/build.js";

const ROOT = join(import.meta.dirname, "..", "..");
const DIST = join(ROOT, "dist");
const BRIEFING = join(DIST, "briefing");
const FIXTURE = join(ROOT, "test", "fixtures", "bad-site");
const temps: string[] = [];
let buildLog: string[] = [];
let buildSeconds = 0;
let site: {asOf: string; cities: {code: string; name: string}[]};

async function databaseFile(dist: string): Promise<string> {
  const files = (await readdir(join(dist, "_file", "data"))).filter((f) => /^fundwatch\..*\.duckdb$/.test(f));
  expect(files).toHaveLength(1);
  return join(dist, "_file", "data", files[0]!);
}

async function readSite(): Promise<typeof site> {
  const instance = await DuckDBInstance.create(":memory:");
  const conn = await instance.connect();
  try {
    await conn.run(`ATTACH '${await databaseFile(DIST)}' AS site (READ_ONLY); USE site`);
    const asOf = (await conn.runAndReadAll("SELECT value FROM meta WHERE key = 'as_of'")).getRowObjectsJS()[0]
      ?.value;
    const cities = (
      await conn.runAndReadAll("SELECT code, name FROM divisions WHERE level = '市'")
    ).getRowObjectsJS();
    return {
      asOf: String(asOf),
      cities: cities
        .map((c) => ({code: String(c.code), name: String(c.name)}))
        .sort((a, b) => (a.code < b.code ? -1 : 1))
    };
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

beforeAll(async () => {
  const spy = vi.spyOn(console, "error");
  const started = Date.now();
  try {
    // The page check is site.test.ts's subject; here it would only add a minute.
    await build({env: {...process.env, FUNDWATCH_BRIEFING: "1"}, check: false});
  } finally {
    buildSeconds = (Date.now() - started) / 1000;
    buildLog = spy.mock.calls.map((args) => args.map(String).join(" "));
    spy.mockRestore();
  }
  site = await readSite();
});
afterAll(async () => {
  for (const t of temps) await rm(t, {recursive: true, force: true});
});

async function load(file: string): Promise<PDFDocument> {
  return PDFDocument.load(await readFile(file), {updateMetadata: false});
}

/** Every object of a PDF but its (compressed) streams, as PDF syntax. */
function objectsText(doc: PDFDocument): string {
  return doc.context
    .enumerateIndirectObjects()
    .filter(([, object]) => !(object instanceof PDFRawStream))
    .map(([, object]) => object.toString())
    .join("\n");
}

describe("the PDF briefing of the build", () => {
  it("is listed in dist/briefing.json, which the overview links", async () => {
    const index = JSON.parse(await readFile(join(DIST, "briefing.json"), "utf8"));
    expect(index).toEqual({
      file: `briefing/简报-${site.asOf}.pdf`,
      sections: site.cities.length + 1,
      pages: (await load(join(DIST, index.file))).getPageCount()
    });
  });
  const merged = (): string => join(BRIEFING, `简报-${site.asOf}.pdf`);
  const sectionFiles = async (): Promise<string[]> =>
    (await readdir(BRIEFING)).filter((f) => /^\d\d-.*\.pdf$/.test(f)).sort();

  it("is one PDF in dist/briefing named with the as-of date, that pdf-lib loads", async () => {
    expect(site.asOf).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const bytes = await readFile(merged());
    expect(new TextDecoder().decode(bytes.subarray(0, 5))).toBe("%PDF-");
    expect((await load(merged())).getPageCount()).toBeGreaterThan(0);
  });

  it("has the overview and then one section per city, in code order, each also as its own PDF", async () => {
    expect(site.cities.length).toBeGreaterThan(0);
    expect(await sectionFiles()).toEqual([
      "00-总览.pdf",
      ...site.cities.map((c, i) => `${String(i + 1).padStart(2, "0")}-${c.name}.pdf`)
    ]);
    expect((await readdir(BRIEFING)).sort()).toEqual(
      [...(await sectionFiles()), `简报-${site.asOf}.pdf`].sort()
    );
  });

  it("has as many pages as its sections together, every one A4", async () => {
    const doc = await load(merged());
    let sum = 0;
    for (const file of await sectionFiles()) {
      const section = await load(join(BRIEFING, file));
      expect(section.getPageCount(), file).toBeGreaterThan(0);
      sum += section.getPageCount();
    }
    expect(doc.getPageCount()).toBe(sum);
    for (const [i, page] of doc.getPages().entries()) {
      expect(Math.abs(page.getWidth() - 595), `page ${i + 1} width`).toBeLessThanOrEqual(1);
      expect(Math.abs(page.getHeight() - 842), `page ${i + 1} height`).toBeLessThanOrEqual(1);
    }
  });

  it("is titled with the as-of date in Chinese, in zh-CN, made by Fundwatch, with a bookmark per section", async () => {
    const [y, m, d] = site.asOf.split("-").map(Number);
    const doc = await load(merged());
    expect(doc.getTitle()).toBe(`医保基金监管分析简报（数据截至 ${y}年${m}月${d}日）`);
    expect(doc.catalog.lookup(PDFName.of("Lang"))?.toString()).toBe("(zh-CN)");
    expect(doc.getCreator()).toBe("Fundwatch");
    const outline = doc.catalog.lookup(PDFName.of("Outlines"), PDFDict);
    expect(outline.lookup(PDFName.of("Count"), PDFNumber).asNumber()).toBe(site.cities.length + 1);
  });

  it("holds no address of the local server, path or host name of this machine", async () => {
    const files = [...(await sectionFiles()), `简报-${site.asOf}.pdf`];
    for (const file of files) {
      const text = objectsText(await load(join(BRIEFING, file)));
      expect(text, file).not.toMatch(/127\.0\.0\.1|localhost|https?:\/\//);
      expect(text, file).not.toContain(ROOT);
      if (hostname().length >= 4) expect(text, file).not.toContain(hostname());
    }
  });

  it("is reported by the build with its file, sections and pages", async () => {
    const doc = await load(merged());
    expect(buildLog).toContain(
      `[fundwatch] PDF 简报：dist/briefing/简报-${site.asOf}.pdf（${site.cities.length + 1} 节，${doc.getPageCount()} 页）`
    );
    console.error(`[briefing.test] build() with the briefing took ${buildSeconds.toFixed(1)} s`);
  });
});

describe("a briefing with a broken page", () => {
  it("is not written: the error names the page, and the previous briefing stays as it was", async () => {
    const before = await Promise.all(
      (await readdir(BRIEFING)).map(async (f) => [f, (await stat(join(BRIEFING, f))).mtimeMs] as const)
    );
    const attempt = writeBriefing({
      dist: DIST,
      log: () => undefined,
      sections: [
        {path: "/", title: "总览"},
        {path: "/district/000000", title: "不存在的地市"}
      ]
    });
    const error = await attempt.then(
      () => undefined,
      (e: unknown) => e
    );
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toMatch(/^PDF 简报未生成，1 个页面有问题：/);
    expect(message).toMatch(/\/district\/000000（不存在的地市）：页面打开失败：HTTP 404/);
    expect(message).not.toContain("/（总览）");
    const after = await Promise.all(
      (await readdir(BRIEFING)).map(async (f) => [f, (await stat(join(BRIEFING, f))).mtimeMs] as const)
    );
    expect(after).toEqual(before);
    expect((await readdir(DIST)).filter((f) => f.startsWith(".briefing"))).toEqual([]);
  });

  it("fails on a Framework error cell and on an uncaught error, naming each page", async () => {
    const temp = await mkdtemp(join(tmpdir(), "fundwatch-briefing-"));
    temps.push(temp);
    await mkdir(join(temp, "_file", "data"), {recursive: true});
    const db = await databaseFile(DIST);
    await cp(db, join(temp, "_file", "data", db.slice(db.lastIndexOf("/") + 1)));
    for (const f of ["error-cell.html", "throws.html", "throws.js"])
      await cp(join(FIXTURE, f), join(temp, f));
    const attempt = writeBriefing({
      dist: temp,
      log: () => undefined,
      sections: [
        {path: "/error-cell", title: "错误单元格"},
        {path: "/throws", title: "未捕获错误"}
      ]
    });
    await expect(attempt).rejects.toThrow(/\/error-cell（错误单元格）：错误单元格：SyntaxError/);
    await expect(attempt).rejects.toThrow(/\/throws（未捕获错误）：页面未捕获的错误/);
    expect((await readdir(temp)).sort()).toEqual(["_file", "error-cell.html", "throws.html", "throws.js"]);
  });
});

describe("the build's briefing step", () => {
  it("skips the briefing when Chromium is missing, says so with the install hint, and does not fail", async () => {
    const before = (await readdir(BRIEFING)).sort();
    const lines: string[] = [];
    const summary = await briefingStep({
      root: ROOT,
      env: {...process.env, FUNDWATCH_BRIEFING: "1"},
      findChromium: () => findChromium(["/nonexistent/chromium"]),
      log: (line) => lines.push(line)
    });
    expect(summary.file).toBeUndefined();
    expect(summary.sections).toEqual([]);
    // The overview then says there is no briefing, and why.
    expect(JSON.parse(await readFile(join(DIST, "briefing.json"), "utf8"))).toEqual({
      file: null,
      skipped: "构建机器上没有 Chromium"
    });
    expect(lines.join("\n")).toMatch(/^\[fundwatch\] 未生成 PDF 简报：找不到 Chromium。/);
    expect(lines.join("\n")).toContain("sudo apt-get install -y chromium fonts-noto-cjk");
    expect((await readdir(BRIEFING)).sort()).toEqual(before);
  });

  it("skips it on request with FUNDWATCH_BRIEFING=0, and says so", async () => {
    const lines: string[] = [];
    const summary = await briefingStep({
      root: ROOT,
      env: {...process.env, FUNDWATCH_BRIEFING: "0"},
      findChromium: () => {
        throw new Error("must not be looked for");
      },
      log: (line) => lines.push(line)
    });
    expect(summary.file).toBeUndefined();
    expect(lines).toEqual(["[fundwatch] 未生成 PDF 简报：已按要求跳过（FUNDWATCH_BRIEFING=0）。"]);
  });
});
