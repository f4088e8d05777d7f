// The site as the intranet serves it: the real nginx (Debian package) with the deploy configuration
// (deploy/nginx/), under the sub-path /reports/fund/, from <srv>/current/site where current →
// releases/a, with the build's .gz files. Every page opened in headless Chromium must work under the
// Content-Security-Policy and record no violation; headers, gzip, ranges, clean URLs, the redirect and
// the 404 page are checked with plain HTTP requests.
//
// The site is built like the other browser tests build theirs (scripts/build.ts), on a copy of the
// project so dist/ is left alone (as publish.test.ts does). FUNDWATCH_TEST_SITE=<a built dist/> uses
// that site instead, to iterate on the nginx configuration without building.
import {request} from "node:http";
import {chmod, cp, mkdir, mkdtemp, readdir, readFile, rename, rm, symlink, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {gunzipSync} from "node:zlib";
import type {Browser, Page} from "playwright-core";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {launchChromium} from "../../scripts/browser.js";
import {build} from "../../scripts/build.js";
import {checkPages, listPages, openSettled, watchPage, type PageReport} from "../../scripts/check-pages.js";
import {copyProject} from "../../scripts/copy-project.js";
import {CSP, externalizeInlineScripts} from "../../scripts/csp.js";
import {precompress} from "../../scripts/precompress.js";
import {DEPLOY, startNginx, type RunningNginx} from "../support/nginx.js";

const ROOT = join(import.meta.dirname, "..", "..");
const PREFIX = "/reports/fund/";
/** A second mount of the same site, as an administrator who picked another sub-path writes it. */
const OTHER = "/jianguan/fund-2024/";
let tmp: string;
let srv: string;
let site: string;
let nginx: RunningNginx | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "fundwatch-nginx-"));
  srv = join(tmp, "srv");
  site = join(srv, "releases", "a", "site");
  await mkdir(join(srv, "releases", "a"), {recursive: true});
  let dist = process.env.FUNDWATCH_TEST_SITE;
  if (!dist) {
    const project = join(tmp, "project");
    await copyProject(project, {data: true});
    // The briefing is tested on its own (briefing.test.ts), the pages are checked below, through nginx.
    await build({root: project, env: {...process.env, FUNDWATCH_BRIEFING: "0"}, check: false});
    dist = join(project, "dist");
  }
  await cp(dist, site, {recursive: true});
  await rm(join(tmp, "project"), {recursive: true, force: true});
  // What the build does before it publishes (no-ops when it did); the test checks the result.
  await externalizeInlineScripts(site);
  await precompress(site);
  await symlink(join("releases", "a"), join(srv, "current"));
  // As root, nginx's workers run as www-data: every folder on the way must be open to them.
  for (const dir of [tmp, srv, join(srv, "releases"), join(srv, "releases", "a")]) await chmod(dir, 0o755);
  const current = join(srv, "current", "site") + "/";
  nginx = await startNginx(join(tmp, "nginx"), [
    {prefix: PREFIX, site: current},
    {prefix: OTHER, site: current}
  ]);
}, 900_000);
afterAll(async () => {
  await nginx?.stop();
  await browser?.close();
  if (tmp) await rm(tmp, {recursive: true, force: true});
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A plain HTTP GET to nginx, nothing added: no Accept-Encoding unless given, the raw body. */
function get(path: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({host: "127.0.0.1", port: nginx?.port, path, headers, agent: false}, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () =>
        resolve({status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks)})
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

/** The site-relative path of the one file under `dir` whose name matches `pattern`. */
async function find(dir: string, pattern: RegExp): Promise<string> {
  const found: string[] = [];
  async function walk(d: string): Promise<void> {
    for (const e of await readdir(join(site, d), {withFileTypes: true})) {
      const rel = d ? `${d}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(rel);
      else if (pattern.test(e.name)) found.push(rel);
    }
  }
  await walk(dir);
  if (found.length !== 1) throw new Error(`${dir} 中应有一个 ${pattern}，实有：${found.join("、")}`);
  return found[0]!;
}

const SECURITY = {
  "content-security-policy": CSP,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer"
};
const IMMUTABLE = "public, max-age=31536000, immutable";

describe("the deploy configuration", () => {
  it("sends the Content-Security-Policy of scripts/csp.ts, word for word, in each of its add_header lines", async () => {
    const text = await readFile(join(DEPLOY, "fundwatch-location.conf"), "utf-8");
    const policies = [...text.matchAll(/^\s*add_header Content-Security-Policy "([^"]*)" always;$/gm)].map(
      (m) => m[1]
    );
    expect(policies).toEqual([CSP, CSP]);
  });
  it("runs a site with no inline script left, and .gz files next to the big ones", async () => {
    const inline: string[] = [];
    for (const page of [...(await listPages(site)), "/404"]) {
      const file = page.endsWith("/") ? `${page}index.html` : `${page}.html`;
      const html = await readFile(join(site, file), "utf-8");
      for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)) {
        // A JSON data block (the pre-baked first view) is never run, so the CSP does not apply to it.
        if (/^ type="application\/json" id="fw-first-view"$/.test(m[1]!)) continue;
        if (!/\bsrc=/.test(m[1]!) || m[2]!.trim() !== "") inline.push(`${file}: ${m[0].slice(0, 80)}`);
      }
    }
    expect(inline).toEqual([]);
    const wasm = await find("_node", /^duckdb-eh\.wasm$/);
    // Compared with Buffer.equals: toEqual walks 34 MB element by element and exhausts the heap.
    const unpacked = gunzipSync(await readFile(join(site, `${wasm}.gz`)));
    expect(unpacked.equals(await readFile(join(site, wasm)))).toBe(true);
  });
});

describe("nginx, by plain HTTP requests", () => {
  it("serves clean URLs: the overview, a page and a district page, each its HTML file", async () => {
    for (const [path, file] of [
      [PREFIX, "index.html"],
      [`${PREFIX}districts`, "districts.html"],
      [`${PREFIX}district/640100`, "district/640100.html"],
      [`${PREFIX}index.html`, "index.html"]
    ] as const) {
      const answer = await get(path);
      expect(answer.status, path).toBe(200);
      expect(answer.headers["content-type"], path).toBe("text/html; charset=utf-8");
      expect(answer.body.equals(await readFile(join(site, file))), path).toBe(true);
    }
  });
  it("redirects the sub-path without its slash to the sub-path, keeping the query", async () => {
    const answer = await get("/reports/fund?city=640100");
    expect([301, 302]).toContain(answer.status);
    expect(answer.headers.location).toBe(`${PREFIX}?city=640100`);
    expect(answer.headers).toMatchObject(SECURITY);
  });
  it.each([`${PREFIX}no-such-page`, `${PREFIX}a/b/c`, `${PREFIX}district/`, `${PREFIX}district`])(
    "answers %s with 404 and the site's 404 page, its <base> set to the sub-path",
    async (path) => {
      const answer = await get(path);
      expect(answer.status).toBe(404);
      expect(answer.headers).toMatchObject({...SECURITY, "cache-control": "no-cache"});
      const html = answer.body.toString("utf-8");
      expect(html).toContain("<title>页面不存在 | 医保基金监管分析</title>");
      expect(html).toContain(`<base href="${PREFIX}">`);
      const original = await readFile(join(site, "404.html"), "utf-8");
      expect(html).toBe(original.replace('<base href="/">', `<base href="${PREFIX}">`));
    }
  );
  it("never serves a file outside the site's folder", async () => {
    await writeFile(join(srv, "secret.txt"), "机密");
    for (const path of [
      `${PREFIX}../secret.txt`,
      `${PREFIX}..%2fsecret.txt`,
      `${PREFIX}..%2f..%2fsrv%2fsecret.txt`,
      "/reports/fund../secret.txt",
      `${PREFIX}%2e%2e/secret.txt`
    ]) {
      const answer = await get(path);
      expect(answer.body.toString(), path).not.toContain("机密");
      expect(answer.status, path).toBeGreaterThanOrEqual(400);
    }
  });
  it("serves the DuckDB-WASM module as application/wasm, kept a year, and its byte ranges", async () => {
    const wasm = await find("_node", /^duckdb-eh\.wasm$/);
    expect(wasm).toMatch(/^_node\/@duckdb\/duckdb-wasm@\d+\.\d+\.\d+\/dist\/duckdb-eh\.wasm$/);
    const whole = await get(PREFIX + wasm);
    expect(whole.status).toBe(200);
    expect(whole.headers["content-type"]).toBe("application/wasm");
    expect(whole.headers["cache-control"]).toBe(IMMUTABLE);
    expect(whole.headers).toMatchObject(SECURITY);
    const bytes = await readFile(join(site, wasm));
    expect(whole.body.equals(bytes)).toBe(true);
    const part = await get(PREFIX + wasm, {Range: "bytes=0-99"});
    expect(part.status).toBe(206);
    expect(part.headers["content-range"]).toBe(`bytes 0-99/${bytes.length}`);
    expect(part.body.length).toBe(100);
    expect(part.body.equals(bytes.subarray(0, 100))).toBe(true);
    expect(part.headers).toMatchObject(SECURITY);
  });
  it("sends the wasm, a script and the data file from their prepared .gz to a client that accepts gzip", async () => {
    const files = [
      await find("_node", /^duckdb-eh\.wasm$/),
      await find("_observablehq", /^client\.[0-9a-f]{8}\.js$/),
      await find("_file", /^fundwatch\.[0-9a-f]{8}\.duckdb$/)
    ];
    for (const file of files) {
      const answer = await get(PREFIX + file, {"Accept-Encoding": "gzip"});
      expect(answer.status, file).toBe(200);
      expect(answer.headers["content-encoding"], file).toBe("gzip");
      expect(answer.headers.vary, file).toBe("Accept-Encoding");
      expect(answer.headers["cache-control"], file).toBe(IMMUTABLE);
      expect(answer.headers, file).toMatchObject(SECURITY);
      // The very bytes of the .gz (gzip_static), not a compression made on the fly.
      expect(answer.body.equals(await readFile(join(site, `${file}.gz`))), file).toBe(true);
    }
  });
  it("keeps hashed assets a year and asks again for HTML and unhashed files, answering 304 when unchanged", async () => {
    const style = await find("_import", /^style\.[0-9a-f]{8}\.css$/);
    expect((await get(PREFIX + style)).headers["cache-control"]).toBe(IMMUTABLE);
    expect((await get(`${PREFIX}briefing.json`)).headers["cache-control"]).toBe("no-cache");
    const page = await get(`${PREFIX}districts`);
    expect(page.headers["cache-control"]).toBe("no-cache");
    const etag = String(page.headers.etag);
    const again = await get(`${PREFIX}districts`, {"If-None-Match": etag});
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    expect(again.headers).toMatchObject({...SECURITY, "cache-control": "no-cache"});
  });
  it("sends the security headers with every kind of answer", async () => {
    const script = await find("_observablehq", /^client\.[0-9a-f]{8}\.js$/);
    for (const path of [PREFIX, `${PREFIX}districts`, PREFIX + script, `${PREFIX}nope`, "/reports/fund"]) {
      const answer = await get(path);
      expect(answer.headers, path).toMatchObject(SECURITY);
    }
  });
  it("serves the same site under another sub-path once the placeholders are replaced", async () => {
    const redirect = await get(OTHER.slice(0, -1));
    expect(redirect.headers.location).toBe(OTHER);
    const page = await get(`${OTHER}districts`);
    expect(page.status).toBe(200);
    expect(page.body.equals(await readFile(join(site, "districts.html")))).toBe(true);
    const missing = await get(`${OTHER}nope`);
    expect(missing.status).toBe(404);
    expect(missing.body.toString()).toContain(`<base href="${OTHER}">`);
  });
});

/** What the browser did on one page: the document's CSP header, CSP messages, big files' encodings. */
interface PageNet {
  csp: string | null;
  cspConsole: string[];
  encodings: Map<string, string>;
}

/** Installs, before the page's own scripts, a listener that records every CSP violation. */
async function recordViolations(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const seen: string[] = [];
    Object.defineProperty(window, "__cspViolations", {value: seen});
    document.addEventListener("securitypolicyviolation", (event) => {
      seen.push(
        `${event.effectiveDirective}：${event.blockedURI || "inline"}（${event.sourceFile || "?"}:${event.lineNumber}）`
      );
    });
  });
}

async function violations(page: Page): Promise<string[]> {
  return page.evaluate(
    () => (window as unknown as {__cspViolations?: string[]}).__cspViolations ?? ["（违规记录脚本没有运行）"]
  );
}

describe("every page through nginx in Chromium, under the Content-Security-Policy", () => {
  let reports: PageReport[];
  const net = new Map<string, PageNet>();
  beforeAll(async () => {
    browser = await launchChromium();
    const baseUrl = `${nginx?.origin}${PREFIX}`;
    reports = await checkPages({
      browser,
      baseUrl,
      pages: await listPages(site),
      sourceRoot: join(ROOT, "reports"),
      beforeOpen: async (page, path) => {
        const record: PageNet = {csp: null, cspConsole: [], encodings: new Map()};
        net.set(path, record);
        await recordViolations(page);
        page.on("console", (message) => {
          if (message.text().includes("Content Security Policy")) record.cspConsole.push(message.text());
        });
        page.on("response", async (response) => {
          const request = response.request();
          const headers = await response.allHeaders();
          if (request.isNavigationRequest() && request.frame() === page.mainFrame())
            record.csp = headers["content-security-policy"] ?? null;
          const path = new URL(response.url()).pathname;
          if (/\.(wasm|duckdb)$/.test(path)) record.encodings.set(path, headers["content-encoding"] ?? "无");
        });
      },
      moreProblems: async (page, path) => {
        const record = net.get(path);
        const problems = (await violations(page)).map((v) => `违反内容安全策略：${v}`);
        for (const text of record?.cspConsole ?? []) problems.push(`控制台的内容安全策略消息：${text}`);
        if (record?.csp !== CSP) problems.push(`页面的 Content-Security-Policy 响应头不对：${record?.csp}`);
        return problems;
      }
    });
  }, 900_000);

  it("opens every page with no error cell, error, failed or off-site request, missing chart or CSP violation", () => {
    expect(reports.length).toBeGreaterThan(5);
    const problems = Object.fromEntries(reports.map((r) => [r.path, r.problems]));
    expect(problems).toEqual(Object.fromEntries(reports.map((r) => [r.path, []])));
  });
  it("renders the charts of the overview and of a district page", () => {
    expect(reports.find((r) => r.path === "/")?.charts).toBeGreaterThanOrEqual(1);
    expect(reports.find((r) => r.path === "/district/640100")?.charts).toBeGreaterThanOrEqual(1);
  });
  it("receives the DuckDB-WASM module and the data file gzip-compressed in Chromium", () => {
    const overview = net.get("/");
    const received = [...(overview?.encodings ?? [])];
    expect(received.some(([path]) => path.endsWith(".wasm"))).toBe(true);
    expect(received.some(([path]) => path.endsWith(".duckdb"))).toBe(true);
    const all = [...net.values()].flatMap((r) => [...r.encodings].map(([path, enc]) => `${path}：${enc}`));
    expect(all.filter((line) => !line.endsWith("：gzip"))).toEqual([]);
  });
  it("is a policy the browser enforces: an injected inline script and style are refused, and recorded", async () => {
    const context = await browser!.newContext();
    try {
      const page = await context.newPage();
      await recordViolations(page);
      await page.goto(`${nginx?.origin}${PREFIX}quality`);
      await page.evaluate(() => {
        const script = document.createElement("script");
        script.textContent = "window.__inlineRan = true;";
        document.head.append(script);
        const style = document.createElement("style");
        style.textContent = "body { display: none; }";
        document.head.append(style);
      });
      await page.waitForFunction(
        () => ((window as unknown as {__cspViolations?: string[]}).__cspViolations ?? []).length >= 2
      );
      const seen = await violations(page);
      expect(seen.some((v) => v.startsWith("script-src-elem：inline"))).toBe(true);
      expect(seen.some((v) => v.startsWith("style-src-elem：inline"))).toBe(true);
      expect(await page.evaluate(() => (window as unknown as {__inlineRan?: boolean}).__inlineRan)).toBe(
        undefined
      );
      expect(await page.evaluate(() => getComputedStyle(document.body).display)).not.toBe("none");
    } finally {
      await context.close();
    }
  });
  it("shows the 404 page, its style sheet and scripts found, at a missing address deep under the sub-path", async () => {
    const context = await browser!.newContext();
    try {
      const page = await context.newPage();
      const problems: string[] = [];
      await watchPage(page, nginx?.origin ?? "", problems);
      await recordViolations(page);
      const url = `${nginx?.origin}${PREFIX}a/b/no-such-page`;
      const response = await openSettled(page, url, []);
      expect(response?.status()).toBe(404);
      expect(await page.title()).toBe("页面不存在 | 医保基金监管分析");
      // The site's style sheet applies (the sidebar is laid out), found through the rewritten <base>.
      expect(await page.evaluate(() => getComputedStyle(document.body).fontFamily)).toContain(
        "Noto Sans CJK SC"
      );
      expect(
        await page.evaluate(
          () => document.querySelector("#observablehq-sidebar")?.getBoundingClientRect().width
        )
      ).toBeGreaterThan(0);
      // The document's own 404, and nothing else: the style sheet and scripts were found.
      expect(problems.sort()).toEqual([
        `HTTP 404：${url}`,
        "控制台错误：Failed to load resource: the server responded with a status of 404 (Not Found)"
      ]);
      expect(await violations(page)).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

describe("installing a new release", () => {
  it("is served from the next request after current is switched, with no reload of nginx", async () => {
    const next = join(srv, "releases", "b", "site");
    await mkdir(next, {recursive: true});
    await writeFile(join(next, "index.html"), "<p>第二版</p>");
    await chmod(join(srv, "releases", "b"), 0o755);
    // install.sh's switch: a new link, renamed over current in one step.
    const swap = async (to: string): Promise<void> => {
      await symlink(join("releases", to), join(srv, "current.tmp"));
      await rename(join(srv, "current.tmp"), join(srv, "current"));
    };
    await swap("b");
    expect((await get(PREFIX)).body.toString()).toBe("<p>第二版</p>");
    await swap("a");
    expect((await get(PREFIX)).body.equals(await readFile(join(site, "index.html")))).toBe(true);
  });
});
