import {mkdtemp, readFile, rm, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {afterEach, describe, expect, it} from "vitest";
import {checkNavigation, readNavigation} from "../../scripts/navigation.js";
import {newReport, reportTemplate, slugProblem} from "../../scripts/new-report.js";
import {formatReport, pagesToCheck, parseCheckArgs} from "../../scripts/check.js";

const temps: string[] = [];
afterEach(async () => {
  for (const t of temps.splice(0)) await rm(t, {recursive: true, force: true});
});

async function reportsDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "fundwatch-reports-"));
  temps.push(dir);
  await writeFile(join(dir, "index.md"), "# 总览\n");
  await writeFile(join(dir, "districts.md"), "# 地区对比\n");
  await writeFile(
    join(dir, "navigation.json"),
    '[\n  {"name": "总览", "path": "/"},\n  {"name": "地区对比", "path": "/districts"}\n]\n'
  );
  return dir;
}

describe("npm run new:report", () => {
  it("creates the page from the template and adds it to the navigation", async () => {
    const dir = await reportsDir();
    const {file} = await newReport("recovery-by-kind", "按机构类型追回", dir);
    expect(file).toBe(join(dir, "recovery-by-kind.md"));
    const page = await readFile(file, "utf-8");
    expect(page).toBe(reportTemplate("按机构类型追回"));
    expect(readNavigation(dir)).toEqual([
      {name: "总览", path: "/"},
      {name: "地区对比", path: "/districts"},
      {name: "按机构类型追回", path: "/recovery-by-kind"}
    ]);
  });

  it("has a template with the pieces a page needs: front matter, filter, SDK query, chart, ranking, as-of stamp", () => {
    const page = reportTemplate("测试页");
    expect(page).toMatch(/^---\ntitle: "测试页"\ncharts: 1\n---\n/);
    for (const piece of [
      'from "./sdk/index.js"',
      '[FileAttachment("data/fundwatch-first.duckdb"), FileAttachment("data/fundwatch-core.duckdb"), FileAttachment("data/fundwatch.duckdb")]',
      "filterBar(choices, filterFromSearch(location.search))",
      "syncUrl(filter",
      "metricByDivision(db, metric",
      "rankedBars(rows",
      "rankDivisions(db",
      "...(filter.within ? {within: filter.within} : {})",
      "asOfStamp(meta",
      'printHeader("测试页", meta)'
    ])
      expect(page).toContain(piece);
    // No CDN import: only the SDK (which re-exports Plot, d3, Inputs, html).
    expect(page).not.toMatch(/npm:|https?:\/\//);
  });

  it("refuses a slug that is not URL-safe, is reserved or exists, and leaves everything as it was", async () => {
    const dir = await reportsDir();
    const before = await readFile(join(dir, "navigation.json"), "utf-8");
    for (const [slug, reason] of [
      ["Recovery", /只能用小写英文字母/],
      ["追回", /只能用小写英文字母/],
      ["a b", /只能用小写英文字母/],
      ["../x", /只能用小写英文字母/],
      ["-x", /只能用小写英文字母/],
      ["x--y", /只能用小写英文字母/],
      ["guide", /保留/],
      ["sdk", /保留/],
      ["districts", /已存在/]
    ] as const) {
      expect(slugProblem(slug, dir)).toMatch(reason);
      await expect(newReport(slug, "标题", dir)).rejects.toThrow(reason);
    }
    await expect(newReport("ok-page", "  ", dir)).rejects.toThrow(/请给出页面标题/);
    await expect(newReport("ok-page", "a${x}", dir)).rejects.toThrow(/不能用于标题/);
    expect(await readFile(join(dir, "navigation.json"), "utf-8")).toBe(before);
    await newReport("ok-page", "好页面", dir);
    await expect(newReport("ok-page", "好页面", dir)).rejects.toThrow(/已存在/);
  });
});

describe("reports/navigation.json", () => {
  it("names the entry at fault", async () => {
    const dir = await reportsDir();
    expect(() => checkNavigation({}, dir)).toThrow(/应为列表/);
    expect(() => checkNavigation([{name: "", path: "/"}], dir)).toThrow(/第 1 项 缺少名称/);
    expect(() => checkNavigation([{name: "总览", path: "x"}], dir)).toThrow(/应以 \/ 开头/);
    expect(() => checkNavigation([{name: "无", path: "/none"}], dir)).toThrow(/找不到页面 \/none/);
    expect(() =>
      checkNavigation(
        [
          {name: "总览", path: "/"},
          {name: "又是总览", path: "/"}
        ],
        dir
      )
    ).toThrow(/第 2 项（又是总览）：页面 \/ 已在导航中/);
  });

  it("is the site's navigation", async () => {
    const {default: config} = await import("../../observablehq.config.js");
    expect(config.pages).toEqual(readNavigation(join(import.meta.dirname, "..", "..", "reports")));
    expect(config.pages[0]).toEqual({name: "总览", path: "/"});
  });
});

describe("npm run check", () => {
  const all = ["/", "/districts", "/district/640100", "/district/640104", "/quality"];
  it("opens every page, one district page standing for all unless asked", () => {
    expect(pagesToCheck(all, parseCheckArgs([]))).toEqual([
      "/",
      "/districts",
      "/district/640100",
      "/quality"
    ]);
    expect(pagesToCheck(all, parseCheckArgs(["--all-districts"]))).toEqual(all);
    expect(pagesToCheck(all, parseCheckArgs(["--pages", "districts,/quality"]))).toEqual([
      "/districts",
      "/quality"
    ]);
    expect(() => pagesToCheck(all, parseCheckArgs(["--pages", "/nope"]))).toThrow(/没有这些页面：\/nope/);
    expect(parseCheckArgs(["--no-build"]).build).toBe(false);
    expect(() => parseCheckArgs(["--bogus"])).toThrow(/不认识的参数/);
  });

  it("prints each page with its problems and a summary", () => {
    const text = formatReport([
      {path: "/", problems: [], charts: 3, metrics: []},
      {path: "/bad", problems: ["错误单元格：没有名为「x」的表"], charts: 0, metrics: []}
    ]);
    expect(text).toContain("✔ /（3 个图表）");
    expect(text).toContain("✘ /bad\n    错误单元格：没有名为「x」的表");
    expect(text).toContain("1 个页面有问题（共检查 2 个）");
  });
});

describe("a build that needs the CDN", () => {
  it("says which page and what to change", async () => {
    const {explainBuildFailure} = await import("../../scripts/build.js");
    // The real output of `observable build` offline for a ```sql cell without display=false.
    const output = [
      "load /index in 78ms",
      "load /mistake npm:htl@latest → npm:htl@1.0.0",
      "npm:isoformat@latest → npm:isoformat@0.2.1",
      "npm:htl@1.0.0/+esm → reports/.observablehq/cache/_npm/htl@1.0.0/_esm.js",
      "TypeError: fetch failed",
      "  [cause]: Error: getaddrinfo ENOTFOUND cdn.jsdelivr.net",
      "Unexpected error: fetch failed"
    ].join("\n");
    const why = explainBuildFailure(output);
    expect(why).toMatch(/^页面 \/mistake 需要从 CDN 下载 npm:isoformat@latest、npm:htl@1\.0\.0\/\+esm/);
    expect(why).toContain("display=false");
    expect(explainBuildFailure("load /index in 78ms\nSyntaxError: Unexpected token")).toBeNull();
  });
});
