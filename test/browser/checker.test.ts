// Negative controls: the page checker must catch every kind of broken page, or a green browser
// suite proves nothing. Includes a real Framework build with a broken import (the build passes,
// the page is broken: only a browser finds it).
import {cp, mkdtemp, rm, symlink, writeFile} from "node:fs/promises";
import type {Server} from "node:http";
import {tmpdir} from "node:os";
import {join} from "node:path";
import type {Browser} from "playwright-core";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {launchChromium} from "../../scripts/browser.js";
import {build} from "../../scripts/build.js";
import {checkPages, listPages, type PageReport} from "../../scripts/check-pages.js";
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
    for (const entry of ["src", "loaders", "data", "observablehq.config.ts", "package.json"]) {
      await cp(join(ROOT, entry), join(temp, entry), {recursive: true});
    }
    await cp(join(ROOT, "reports"), join(temp, "reports"), {
      recursive: true,
      verbatimSymlinks: true,
      filter: (source) => !source.includes(".observablehq")
    });
    await symlink(join(ROOT, "node_modules"), join(temp, "node_modules"));
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
    // Framework turns the import into a destructured dynamic import, so the misspelt name is
    // undefined and the page breaks only where it is called: only a browser sees it.
    await writeFile(
      join(temp, "reports", "broken.md"),
      '# 坏页面\n\n```js\nimport {rankedBarz} from "./sdk/index.js";\ndisplay(rankedBarz([], {label: String, value: Number}));\n```\n'
    );
    // The briefing is tested on its own (briefing.test.ts); here it would only add half a minute.
    await build({root: temp, env: {...process.env, FUNDWATCH_BRIEFING: "0"}});
    const {server, url} = await startServer({root: join(temp, "dist")});
    servers.push(server);
    const all = await listPages(join(temp, "dist"));
    expect(all).toContain("/broken");
    // Every page but the per-district ones, which share one source: one of them stands for all.
    const pages = all.filter((p) => !p.startsWith("/district/") || p === "/district/640100");
    expect(pages).toContain("/district/640100");
    const problems = byPath(
      await checkPages({browser, baseUrl: url, pages, sourceRoot: join(temp, "reports")})
    );
    expect(problems["/broken"]).toMatch(/rankedBarz is not a function/);
    expect(problems["/"]).toBe("");
  });
});
