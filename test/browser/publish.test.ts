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
  });
});

async function copyDir(from: string, to: string): Promise<void> {
  const {cp} = await import("node:fs/promises");
  await cp(from, to, {recursive: true});
}
