// `npm run dev` as an analyst uses it: a page open in the browser follows an edit to the page and an
// edit to the SDK without a manual reload, and a page added to reports/navigation.json shows in the
// navigation. Runs on a copy of the project, so the checkout is never edited.
import {spawn, type ChildProcess} from "node:child_process";
import {mkdtemp, readFile, rm, writeFile} from "node:fs/promises";
import {createServer} from "node:net";
import {tmpdir} from "node:os";
import {join} from "node:path";
import type {Browser} from "playwright-core";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {launchChromium} from "../../scripts/browser.js";
import {copyProject} from "../../scripts/copy-project.js";

let browser: Browser;
let temp: string;
let dev: ChildProcess | undefined;
let base: string;
let log = "";

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  browser = await launchChromium();
  temp = await mkdtemp(join(tmpdir(), "fundwatch-dev-"));
  await copyProject(temp, {data: true});
  await writeFile(join(temp, "src", "reload-probe.ts"), 'export const probe = "第一版";\n');
  await writeFile(
    join(temp, "reports", "probe.md"),
    '# 试验页\n\n<p id="text">页面第一版</p>\n\n```js\nimport {html} from "./sdk/index.js";\nimport {probe} from "./sdk/reload-probe.js";\ndisplay(html`<p id="sdk">${probe}</p>`);\n```\n'
  );
  const port = await freePort();
  base = `http://127.0.0.1:${port}/`;
  dev = spawn(join(temp, "node_modules", ".bin", "tsx"), [join(temp, "scripts", "dev.ts")], {
    cwd: temp,
    env: {...process.env, PORT: String(port)},
    detached: true,
    stdio: ["ignore", "pipe", "pipe"]
  });
  dev.stdout?.on("data", (d: Buffer) => (log += d.toString()));
  dev.stderr?.on("data", (d: Buffer) => (log += d.toString()));
  // Ready when the preview server answers.
  for (let i = 0; i < 240; ++i) {
    const ok = await fetch(base).then(
      (r) => r.ok,
      () => false
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`npm run dev 没有启动：\n${log}`);
}, 120_000);

afterAll(async () => {
  if (dev?.pid) {
    try {
      process.kill(-dev.pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
  await browser?.close();
  if (temp) await rm(temp, {recursive: true, force: true});
});

describe("npm run dev", () => {
  it("follows edits to a page, to the SDK and to the navigation without a manual reload", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(new URL("probe", base).href);
    await page.locator("#sdk", {hasText: "第一版"}).waitFor({timeout: 60_000});
    expect(await page.locator("#text").textContent()).toBe("页面第一版");

    await writeFile(join(temp, "src", "reload-probe.ts"), 'export const probe = "第二版";\n');
    await page.locator("#sdk", {hasText: "第二版"}).waitFor({timeout: 30_000});

    const source = await readFile(join(temp, "reports", "probe.md"), "utf-8");
    await writeFile(join(temp, "reports", "probe.md"), source.replace("页面第一版", "页面第二版"));
    await page.locator("#text", {hasText: "页面第二版"}).waitFor({timeout: 30_000});

    const navigation = JSON.parse(
      await readFile(join(temp, "reports", "navigation.json"), "utf-8")
    ) as object[];
    await writeFile(
      join(temp, "reports", "navigation.json"),
      JSON.stringify([...navigation, {name: "试验页", path: "/probe"}])
    );
    // The navigation is part of the page's frame: it shows after the reload the server asks for.
    await page.locator('#observablehq-sidebar a[href="./probe"]').waitFor({timeout: 30_000});
    await context.close();
  }, 180_000);
});
