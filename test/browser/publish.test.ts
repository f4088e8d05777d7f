// Publishing a build, as the person who ships it does it, on a copy of the project: a changed input
// is always rerun and shows in the pages and build.json; an unchanged one reuses the cached loader
// output; a broken input or a page that fails the check leaves the previous dist/ exactly as it was.
import {createHash} from "node:crypto";
import {mkdtemp, readdir, readFile, rm, stat, writeFile} from "node:fs/promises";
import type {Server} from "node:http";
import {tmpdir} from "node:os";
import {join, relative} from "node:path";
import type {Browser} from "playwright-core";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {launchChromium} from "../../scripts/browser.js";
import {build, type BuildInfo} from "../../scripts/build.js";
import {checkPages} from "../../scripts/check-pages.js";
import {copyProject} from "../../scripts/copy-project.js";
import {startServer} from "../../scripts/serve.js";
import {DEFECTS} from "../support/data-defects.js";

const FILE = "银川市_处理结果.csv";
let root: string;
let browser: Browser;
const servers: Server[] = [];
const env = {...process.env, FUNDWATCH_BRIEFING: "0"};

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "fundwatch-publish-"));
  await copyProject(root, {data: true});
  browser = await launchChromium();
});
afterAll(async () => {
  for (const s of servers) s.close();
  await browser?.close();
  if (root) await rm(root, {recursive: true, force: true});
});

const sha256 = async (path: string): Promise<string> =>
  createHash("sha256")
    .update(await readFile(path))
    .digest("hex");

/** Every file of the published site with its sha256: what "dist/ untouched" is compared on. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  async function walk(d: string): Promise<void> {
    for (const e of await readdir(d, {withFileTypes: true})) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out[relative(dir, p)] = await sha256(p);
    }
  }
  await walk(dir);
  return out;
}

const buildInfo = async (): Promise<BuildInfo> =>
  JSON.parse(await readFile(join(root, "dist", "build.json"), "utf-8")) as BuildInfo;

/** The overview's recovery KPI (fen) and as-of stamp, read from the published page in Chromium. */
async function overview(): Promise<{recovery: number; asOf: string; builtAt: string; problems: string[]}> {
  const {server, url} = await startServer({root: join(root, "dist")});
  servers.push(server);
  const [report] = await checkPages({browser, baseUrl: url, pages: ["/"], sourceRoot: join(root, "reports")});
  if (!report) throw new Error("no report");
  const metric = report.metrics.find((m) => m.metric === "recovery_total_fen" && m.unit === "640000");
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(url);
  const stamp = await page.locator(".fw-stamp").first().getAttribute("data-as-of");
  const builtAt = await page.locator(".fw-built").first().getAttribute("data-built-at");
  await context.close();
  server.close();
  return {
    recovery: Number(metric?.value),
    asOf: stamp ?? "",
    builtAt: builtAt ?? "",
    problems: report.problems
  };
}

describe("npm run build publishes only what it checked, made from the current inputs", () => {
  let first: Awaited<ReturnType<typeof overview>>;
  let firstInfo: BuildInfo;

  it("builds and publishes; build.json records the inputs, and every page says when it was built", async () => {
    const result = await build({root, env, check: false});
    expect(result.cache.reused).toBe(false);
    firstInfo = await buildInfo();
    expect(firstInfo.page_check.status).toBe("skipped");
    const input = firstInfo.data.inputs.find((i) => i.file === FILE);
    expect(input?.sha256).toBe(await sha256(join(root, "data", "ningxia", FILE)));
    expect(input?.rows_loaded).toBeGreaterThan(0);
    expect(firstInfo.versions.framework).toMatch(/^\d+\.\d+\.\d+$/);
    expect(firstInfo.versions.duckdb_wasm).toMatch(/^\d+\.\d+\.\d+$/);
    first = await overview();
    expect(first.problems).toEqual([]);
    expect(first.recovery).toBeGreaterThan(0);
    expect(first.asOf).toBe(firstInfo.data.as_of);
    expect(first.builtAt).toBe(firstInfo.built_at);
  });

  it("reuses the cached loader output when nothing changed, and still stamps the new build time", async () => {
    const before = await sha256(join(root, "reports", ".observablehq", "cache", "data", "fundwatch.duckdb"));
    const result = await build({root, env, check: false});
    expect(result.cache.reused).toBe(true);
    expect(await sha256(join(root, "reports", ".observablehq", "cache", "data", "fundwatch.duckdb"))).toBe(
      before
    );
    const info = await buildInfo();
    expect(info.loaders.rerun).toBe(false);
    expect(info.built_at > firstInfo.built_at).toBe(true);
  });

  it("reruns the loader when an input file changed: the page and build.json show the new figures", async () => {
    const path = join(root, "data", "ningxia", FILE);
    const bytes = await readFile(path); // GBK: the amount's ASCII digits are replaced byte for byte
    const text = bytes.toString("latin1");
    expect(text.split(",4313.42,").length).toBe(2);
    await writeFile(path, Buffer.from(text.replace(",4313.42,", ",5313.42,"), "latin1"));
    const result = await build({root, env, check: false});
    expect(result.cache.reused).toBe(false);
    expect(result.cache.reasons).toEqual([`输入文件变化：${FILE}`]);
    const info = await buildInfo();
    expect(info.data.inputs.find((i) => i.file === FILE)?.sha256).toBe(await sha256(path));
    const now = await overview();
    expect(now.problems).toEqual([]);
    expect(now.recovery - first.recovery).toBe(100_000); // 1,000.00 元 more, in fen
  });

  it("reruns the loader when the build points at another input folder", async () => {
    const other = join(root, "data", "copy");
    await copyDir(join(root, "data", "ningxia"), other);
    const result = await build({root, env: {...env, FUNDWATCH_DATA_DIR: other}, check: false});
    expect(result.cache.reused).toBe(false);
    expect(result.cache.reasons.join("；")).toMatch(/输入目录换了|环境变量新增：FUNDWATCH_DATA_DIR/);
  });

  it("a broken input fails the build with the reason and leaves the published site untouched", async () => {
    const before = await snapshot(join(root, "dist"));
    const broken = join(root, "data", "broken");
    await copyDir(join(root, "data", "ningxia"), broken);
    // A district sends its inspection records without the 机构编码 column: a structural error.
    const file = join(broken, "吴忠市_检查记录.csv");
    const lines = new TextDecoder("gbk").decode(await readFile(file)).split("\n");
    const dropped = lines.map((line) =>
      line
        .split(",")
        .filter((_, i) => i !== 1)
        .join(",")
    );
    await writeFile(file, dropped.join("\n"));
    await expect(build({root, env: {...env, FUNDWATCH_DATA_DIR: broken}, check: false})).rejects.toThrow(
      /缺少必需的列：「机构编码」[\s\S]*构建没有发布：dist\/ 保持原样（上一次发布的站点仍在）/
    );
    expect(await snapshot(join(root, "dist"))).toEqual(before);
    expect((await stat(join(root, ".fundwatch-build", "failed"))).isDirectory()).toBe(true);
  });

  it("a page that fails the check is not published: the error names the page, dist/ is untouched", async () => {
    const before = await snapshot(join(root, "dist"));
    await writeFile(
      join(root, "reports", "broken.md"),
      '# 坏页面\n\n```js\nimport {rankedBarz} from "./sdk/index.js";\ndisplay(rankedBarz([], {label: String, value: Number}));\n```\n'
    );
    try {
      await expect(build({root, env})).rejects.toThrow(
        /\/broken：.*rankedBarz[\s\S]*构建没有发布：dist\/ 保持原样/
      );
      expect(await snapshot(join(root, "dist"))).toEqual(before);
      const failed = await readdir(join(root, ".fundwatch-build", "failed"));
      expect(failed).toContain("broken.html");
    } finally {
      await rm(join(root, "reports", "broken.md"));
    }
    // A build that opens all 38 pages: about 7 s each on this 2-core machine, on top of the build.
  }, 600_000);
});

describe("a build stops at a failed completeness gate, and an administrator can accept it with a reason", () => {
  // Each defect on a copy of the inputs the site was last published from; the loader compares with
  // dist/build.json, so each build fails at the gate, saying why, and leaves dist/ as it was.
  const cases: [keyof typeof DEFECTS, RegExp][] = [
    ["noDivisions", /必需数据集为空：没有「行政区划」的输入文件/],
    ["manyRejected", /拒收比例过高：银川市_违规问题\.csv 读取 660 行，拒收 36 行（5\.5%），超过上限 2%/],
    ["citySilent", /区划没有数据：原州区（640402）上次发布时有 \d+ 行记录，这次没有任何记录/],
    ["halfRows", /区划记录数骤降：利通区（640302）的记录从上次发布的 \d+ 行降到 \d+ 行/],
    [
      "recoveredHalved",
      /区划追回金额骤降：原州区（640402）的追回金额从上次发布的 [\d,.]+元降到 [\d,.]+元（减少 50%/
    ],
    ["weeklyOff", /周报与案件记录不符：.+（6404\d\d） 2024-09-27 的周报「累计检查机构数」/]
  ];
  for (const [defect, message] of cases) {
    it(`${defect}: the build fails naming the cause; dist/ is untouched`, async () => {
      const before = await snapshot(join(root, "dist"));
      const folder = join(root, "data", `gate-${defect}`);
      await copyDir(join(root, "data", "ningxia"), folder);
      await DEFECTS[defect](folder);
      const error = await build({root, env: {...env, FUNDWATCH_DATA_DIR: folder}, check: false}).catch(
        (e: unknown) => e as Error
      );
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toMatch(/质量门槛未通过（\d+ 项），不发布：/);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).toMatch(
        /npm run build -- --accept "原因"[\s\S]*构建没有发布：dist\/ 保持原样（上一次发布的站点仍在）/
      );
      expect(await snapshot(join(root, "dist"))).toEqual(before);
    });
  }

  it("--accept publishes with the reason and the failures in build.json and on the quality page", async () => {
    const folder = join(root, "data", "gate-citySilent");
    const reason = "固原市本周因系统升级未报送，经电话核实";
    const result = await build({
      root,
      env: {...env, FUNDWATCH_DATA_DIR: folder},
      check: false,
      accept: reason
    });
    // The failed builds left no record of a successful one: the loader reruns, with the reason given.
    expect(result.cache.reused).toBe(false);
    const gates = (await buildInfo()).data.gates;
    expect(gates?.status).toBe("accepted");
    expect(gates?.accepted_reason).toBe(reason);
    expect(gates?.failures.map((f) => f.gate)).toContain("division-silent");
    const {server, url} = await startServer({root: join(root, "dist")});
    servers.push(server);
    const [report] = await checkPages({
      browser,
      baseUrl: url,
      pages: ["/quality"],
      sourceRoot: join(root, "reports")
    });
    expect(report?.problems).toEqual([]);
    expect(report?.metrics.find((m) => m.metric === "gate_status")?.value).toBe("accepted");
    const failures = report?.metrics.filter((m) => m.metric === "gate_failure") ?? [];
    expect(failures.map((m) => m.unit)).toContain("原州区（640402）");
    expect(report?.metrics.find((m) => m.metric === "gate_accepted_reason")?.text).toBe(reason);
    server.close();
    // The next build with every city's files again compares with the accepted site, and passes.
    const next = await build({
      root,
      env: {...env, FUNDWATCH_DATA_DIR: join(root, "data", "ningxia")},
      check: false
    });
    expect(next.info.data.gates?.status).toBe("passed");
  });
});

async function copyDir(from: string, to: string): Promise<void> {
  const {cp} = await import("node:fs/promises");
  await cp(from, to, {recursive: true});
}
