// The build's own judgements: why a build failed, which pages failed the check, and data it refuses.
import {mkdir, mkdtemp, readFile, rm, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {describe, expect, it} from "vitest";
import {LOADER_FAILURE} from "../../loaders/fundwatch-db.js";
import {
  addFavicon,
  checkDataInfo,
  describeFailedPages,
  explainBuildFailure,
  stampAsOf,
  type BuildInfo
} from "../../scripts/build.js";
import {MIN_PAGE_SECONDS, pageTimeoutMs} from "../../scripts/check-pages.js";

describe("explainBuildFailure", () => {
  it("quotes a data loader's failure, with every problem it lists", () => {
    const output = [
      "load /index in 78ms",
      `${LOADER_FAILURE}输入文件有 2 个结构性问题，未生成数据：`,
      "- 吴忠市_检查记录.csv（检查记录）: 缺少必需的列：「机构编码」",
      "- 区划.csv（区划）: 文件是空的",
      "    at file:///work/main/loaders/ingest.ts:12:3",
      "✗ Unable to load data/fundwatch.duckdb: command exited with code 1"
    ].join("\n");
    expect(explainBuildFailure(output)).toBe(
      "输入文件有 2 个结构性问题，未生成数据：\n" +
        "- 吴忠市_检查记录.csv（检查记录）: 缺少必需的列：「机构编码」\n" +
        "- 区划.csv（区划）: 文件是空的"
    );
  });
});

describe("describeFailedPages", () => {
  it("names each failed page with its first problems, and counts the rest", () => {
    const reports = [
      {path: "/", problems: [], charts: 3, metrics: []},
      {
        path: "/broken",
        problems: ["错误单元格：a", "错误单元格：b", "控制台错误：c", "x"],
        charts: 0,
        metrics: []
      },
      ...Array.from({length: 12}, (_, i) => ({
        path: `/p${i}`,
        problems: ["HTTP 404：x"],
        charts: 0,
        metrics: []
      }))
    ];
    const text = describeFailedPages(reports);
    expect(text).toMatch(/^13 个页面没有通过检查（共 14 个）：/);
    expect(text).toContain("  /broken：错误单元格：a；错误单元格：b；控制台错误：c …");
    expect(text).not.toContain("  /：");
    expect(text).toContain("…另有 3 个页面");
    const repeated = describeFailedPages([
      {
        path: "/x",
        problems: ["控制台错误：" + "长".repeat(300), "控制台错误：" + "长".repeat(300)],
        charts: 0,
        metrics: []
      }
    ]);
    expect(repeated).toBe(`1 个页面没有通过检查（共 1 个）：\n  /x：控制台错误：${"长".repeat(194)}…`);
  });
});

describe("checkDataInfo", () => {
  const good: BuildInfo["data"] = {
    as_of: "2024-09-27",
    source: "示例",
    generated_at: "2024-09-27T00:00:00Z",
    inputs: [
      {
        file: "a.csv",
        dataset: "inspections",
        sha256: "0".repeat(64),
        rows_read: 2,
        rows_loaded: 1,
        rows_rejected: 1,
        rows_skipped: 0
      }
    ]
  };
  it("accepts data with an as-of date and loaded rows", () => {
    expect(() => checkDataInfo(good)).not.toThrow();
  });
  it("refuses a database a loader wrote empty: no as-of date, no input, no loaded row", () => {
    expect(() => checkDataInfo({...good, as_of: ""})).toThrow(/没有数据截至日期/);
    expect(() => checkDataInfo({...good, inputs: []})).toThrow(/没有记录任何输入文件/);
    expect(() => checkDataInfo({...good, inputs: [{...good.inputs[0]!, rows_loaded: 0}]})).toThrow(
      /都没有载入任何行/
    );
  });
});

describe("addFavicon", () => {
  it("links the site's icon from every page relative to the page, once", async () => {
    const dir = await mkdtemp(join(tmpdir(), "fundwatch-icon-"));
    try {
      await mkdir(join(dir, "district"));
      await writeFile(join(dir, "index.html"), "<html><head><title>a</title></head></html>");
      await writeFile(join(dir, "district", "640100.html"), "<html><head></head></html>");
      expect(await addFavicon(dir)).toBe(2);
      expect(await addFavicon(dir)).toBe(2);
      expect(await readFile(join(dir, "favicon.svg"), "utf-8")).toMatch(/^<svg /);
      const index = await readFile(join(dir, "index.html"), "utf-8");
      expect(index.match(/<link rel="icon"/g)).toHaveLength(1);
      expect(index).toContain('<link rel="icon" href="./favicon.svg" type="image/svg+xml">\n</head>');
      expect(await readFile(join(dir, "district", "640100.html"), "utf-8")).toContain(
        'href="../favicon.svg"'
      );
    } finally {
      await rm(dir, {recursive: true, force: true});
    }
  });
});

describe("stampAsOf", () => {
  it("writes the as-of date into every page's footer, and refuses a page without the marker", async () => {
    const dir = await mkdtemp(join(tmpdir(), "fundwatch-stamp-"));
    try {
      await mkdir(join(dir, "district"));
      const page =
        '<footer><span class="fw-built">构建于 …</span><!--fw-as-of--> · 医保基金监管分析</footer>';
      await writeFile(join(dir, "index.html"), page);
      await writeFile(join(dir, "district", "640100.html"), page);
      expect(await stampAsOf(dir, "2024-09-27")).toBe(2);
      const text = await readFile(join(dir, "district", "640100.html"), "utf-8");
      expect(text).toContain(
        ' · <span class="fw-as-of" data-as-of="2024-09-27">数据截至 2024年9月27日</span> · '
      );
      expect(text).not.toContain("<!--fw-as-of-->");
      await expect(stampAsOf(dir, "2024-09-27")).rejects.toThrow(/\.html: 页脚中没有数据截至日期的位置/);
    } finally {
      await rm(dir, {recursive: true, force: true});
    }
  });
});

describe("pageTimeoutMs", () => {
  it("gives each page a second per MB of the site's data files, at least 30 s, unless FUNDWATCH_PAGE_SECONDS says", async () => {
    const dist = await mkdtemp(join(tmpdir(), "fundwatch-timeout-"));
    try {
      // No data files at all: the least time.
      expect(await pageTimeoutMs(dist, {})).toBe(MIN_PAGE_SECONDS * 1000);
      const data = join(dist, "_file", "data");
      await mkdir(data, {recursive: true});
      await writeFile(join(data, "fundwatch.0123abcd.duckdb"), Buffer.alloc(40_000_000));
      await writeFile(join(data, "fundwatch-core.4567ef01.duckdb"), Buffer.alloc(5_500_000));
      await writeFile(join(data, "sdk-reference.89ab.json"), Buffer.alloc(9_000_000)); // not a data file
      expect(await pageTimeoutMs(dist, {})).toBe(46_000);
      expect(await pageTimeoutMs(dist, {FUNDWATCH_PAGE_SECONDS: "300"})).toBe(300_000);
      expect(await pageTimeoutMs(dist, {FUNDWATCH_PAGE_SECONDS: ""})).toBe(46_000);
      await expect(pageTimeoutMs(dist, {FUNDWATCH_PAGE_SECONDS: "半分钟"})).rejects.toThrow(
        /FUNDWATCH_PAGE_SECONDS 应为正数/
      );
      await expect(pageTimeoutMs(dist, {FUNDWATCH_PAGE_SECONDS: "0"})).rejects.toThrow(/应为正数/);
    } finally {
      await rm(dist, {recursive: true, force: true});
    }
  });
});
