// The Content-Security-Policy post-processing of a built site, on small fake sites shaped like
// Framework 1.13's output: every inline script moved to a file named by its content's hash, where its
// relative addresses resolve as before; data: images moved out of the style sheets; idempotent; and a
// clear refusal of what cannot be moved.
import {createHash} from "node:crypto";
import {mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import {dirname, join, relative} from "node:path";
import {afterAll, describe, expect, it} from "vitest";
import {
  CSP,
  externalizeCssDataImages,
  externalizeInlineScripts,
  SECURITY_HEADERS
} from "../../scripts/csp.js";

const temps: string[] = [];
afterAll(async () => {
  for (const t of temps) await rm(t, {recursive: true, force: true});
});

const sha8 = (text: string | Buffer): string => createHash("sha256").update(text).digest("hex").slice(0, 8);

const MODULE = (up: string): string =>
  `\nimport {define} from "${up}_observablehq/client.d10d8454.js";\nimport {registerFile} from "${up}_observablehq/stdlib.5532b554.js";\n\nregisterFile("${up}data/fundwatch.duckdb", {"name":"${up}data/fundwatch.duckdb","path":"${up}_file/data/fundwatch.fa7fd8aa.duckdb"});\n\ndefine({id: "61e74fc1", inputs: ["display"], body: (display) => {\ndisplay(html\`<a href="./x" onclick=\${() => 1}>链接</a>\`);\n}});\n`;
const SIDEBAR =
  '{const e=document.querySelector("#observablehq-sidebar");e.style.cssText="overflow: hidden;",e.scrollTop=0,e.style.cssText="";}';
const CARET =
  "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='16' height='16'%3E%3Cpath d='M5 7L8 9'/%3E%3C/svg%3E";
const STYLE = `:root{--theme-caret: url("${CARET}");--x:1}a{background:url(data:image/png;base64,iVBORw0KGgo=)}b{src:url("data:font/woff2;base64,AAAA")}`;

function page(up: string, title: string): string {
  return [
    "<!DOCTYPE html>",
    '<html lang="zh-CN">',
    "<head>",
    `<title>${title}</title>`,
    `<link rel="stylesheet" type="text/css" href="${up}_import/style.35aac5b2.css">`,
    `<link rel="modulepreload" href="${up}_observablehq/client.d10d8454.js">`,
    `<script type="module">${MODULE(up)}</script>`,
    '<script type="application/json" id="data">{"a": "<b>"}</script>',
    "</head>",
    "<body>",
    '<nav id="observablehq-sidebar"><a href="./x">x</a></nav>',
    `<script>${SIDEBAR}</script>`,
    '<main><p>正文 <code>&lt;button onclick=&gt;</code></p><!-- <a onclick="x"> --></main>',
    "</body>",
    "</html>",
    ""
  ].join("\n");
}

/** A fake Framework build: a root page, a page in a folder, and the 404 page with <base href="/">. */
async function fakeSite(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "fundwatch-csp-"));
  temps.push(dir);
  await mkdir(join(dir, "district"));
  await mkdir(join(dir, "_import"));
  await mkdir(join(dir, "_observablehq"));
  await writeFile(join(dir, "index.html"), page("./", "总览"));
  await writeFile(join(dir, "district", "640100.html"), page("../", "银川市"));
  await writeFile(
    join(dir, "404.html"),
    page("./", "页面不存在").replace("<head>\n", '<head>\n<base href="/">\n') +
      '<script type="module">\nif (location.pathname.endsWith("/")) fetch(location.pathname.slice(0, -1));\n</script>\n'
  );
  await writeFile(join(dir, "_import", "style.35aac5b2.css"), STYLE);
  await writeFile(join(dir, "_observablehq", "client.d10d8454.js"), "export const define = 1;");
  return dir;
}

async function tree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  async function walk(d: string): Promise<void> {
    for (const e of await readdir(d, {withFileTypes: true})) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out[relative(dir, p)] = `${(await stat(p)).mtimeMs} ${sha8(await readFile(p))}`;
    }
  }
  await walk(dir);
  return out;
}

const SCRIPT_TAGS = /<script\b[^>]*>[\s\S]*?<\/script>/g;

describe("CSP", () => {
  it("allows only the site's own scripts, no inline script and no eval, but WebAssembly", () => {
    const directives = new Map(CSP.split("; ").map((d) => [d.split(" ")[0], d.split(" ").slice(1)]));
    expect(directives.get("default-src")).toEqual(["'self'"]);
    expect(directives.get("script-src")).toEqual(["'self'", "'wasm-unsafe-eval'"]);
    expect(directives.get("style-src")).toEqual(["'self'"]);
    expect(directives.get("connect-src")).toEqual(["'self'"]);
    expect(directives.get("object-src")).toEqual(["'none'"]);
    expect(CSP).not.toMatch(/'unsafe-eval'|script-src[^;]*'unsafe-inline'|\*|https?:|data:/);
    expect(SECURITY_HEADERS["Content-Security-Policy"]).toBe(CSP);
  });
});

describe("externalizeInlineScripts(distDir)", () => {
  it("moves each page's module script next to the page, named by its hash, so its relative imports resolve as before", async () => {
    const dir = await fakeSite();
    const result = await externalizeInlineScripts(dir);
    expect(result).toEqual({pages: 3, scripts: 7, stylesheets: 1, images: 2});
    const html = await readFile(join(dir, "district", "640100.html"), "utf-8");
    const name = `640100.${sha8(MODULE("../"))}.js`;
    expect(html).toContain(`<script type="module" src="./${name}"></script>`);
    // Same folder as the page: `../_observablehq/…` and registerFile("../data/…") mean what they meant.
    expect(await readFile(join(dir, "district", name), "utf-8")).toBe(MODULE("../"));
    const index = await readFile(join(dir, "index.html"), "utf-8");
    expect(index).toContain(`<script type="module" src="./index.${sha8(MODULE("./"))}.js"></script>`);
    expect(await readFile(join(dir, `index.${sha8(MODULE("./"))}.js`), "utf-8")).toBe(MODULE("./"));
  });
  it("moves the sidebar script to one shared file, still a plain synchronous script in the same place", async () => {
    const dir = await fakeSite();
    await externalizeInlineScripts(dir);
    const file = `_observablehq/inline.${sha8(SIDEBAR)}.js`;
    expect(await readFile(join(dir, file), "utf-8")).toBe(SIDEBAR);
    const html = await readFile(join(dir, "district", "640100.html"), "utf-8");
    expect(html).toContain(
      `<nav id="observablehq-sidebar"><a href="./x">x</a></nav>\n<script src="../${file}"></script>\n<main>`
    );
    expect(await readFile(join(dir, "index.html"), "utf-8")).toContain(`<script src="./${file}"></script>`);
  });
  it("leaves no inline script that runs, keeps data blocks, and changes nothing else in the page", async () => {
    const dir = await fakeSite();
    const before = await readFile(join(dir, "district", "640100.html"), "utf-8");
    await externalizeInlineScripts(dir);
    const after = await readFile(join(dir, "district", "640100.html"), "utf-8");
    const scripts = after.match(SCRIPT_TAGS) ?? [];
    expect(scripts.filter((s) => !/\ssrc="/.test(s) && !s.includes('type="application/json"'))).toEqual([]);
    expect(after).toContain('<script type="application/json" id="data">{"a": "<b>"}</script>');
    expect(after.replace(SCRIPT_TAGS, "")).toBe(
      before
        .replace(SCRIPT_TAGS, "")
        .replace("style.35aac5b2.css", after.match(/style\.[0-9a-f]{8}\.css/)?.[0] ?? "")
    );
  });
  it('handles 404.html, whose <base href="/"> is the site\'s root, where the page is', async () => {
    const dir = await fakeSite();
    await externalizeInlineScripts(dir);
    const html = await readFile(join(dir, "404.html"), "utf-8");
    const modules = [...html.matchAll(/<script type="module" src="\.\/(404\.[0-9a-f]{8}\.js)"><\/script>/g)];
    expect(modules).toHaveLength(2);
    for (const [, name] of modules) expect((await stat(join(dir, name!))).isFile()).toBe(true);
    const inline = (html.match(SCRIPT_TAGS) ?? []).filter((s) => !/\ssrc="/.test(s));
    expect(inline).toEqual(['<script type="application/json" id="data">{"a": "<b>"}</script>']);
  });
  it("is idempotent: a second run finds nothing to move and writes nothing", async () => {
    const dir = await fakeSite();
    await externalizeInlineScripts(dir);
    const first = await tree(dir);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await externalizeInlineScripts(dir)).toEqual({pages: 0, scripts: 0, stylesheets: 0, images: 0});
    expect(await tree(dir)).toEqual(first);
  });
  it("keeps an inline module script's async; drops defer and async of a classic one, which ignored them inline", async () => {
    const dir = await mkdtemp(join(tmpdir(), "fundwatch-csp-"));
    temps.push(dir);
    await writeFile(
      join(dir, "a.html"),
      '<script type="module" async nonce="n">import "./b.js";</script><script defer>x()</script><script type="text/javascript">y()</script>'
    );
    await externalizeInlineScripts(dir);
    expect(await readFile(join(dir, "a.html"), "utf-8")).toBe(
      `<script type="module" src="./a.${sha8('import "./b.js";')}.js" async nonce="n"></script>` +
        `<script src="./_observablehq/inline.${sha8("x()")}.js"></script>` +
        `<script src="./_observablehq/inline.${sha8("y()")}.js"></script>`
    );
  });
  it.each([
    ['<button onclick="go()">去</button>', /a\.html：<button> 的内联事件处理属性 onclick/],
    ['<a href="javascript:void(0)">x</a>', /a\.html：<a> 的 href 使用了 javascript: 地址/],
    ['<script type="importmap">{"imports": {}}</script>', /a\.html：内联的 import map/],
    ['<script>import("./x.js")</script>', /a\.html：经典脚本中的 import\(\)/],
    ['<script src="./x.js">y()</script>', /a\.html：带 src 的 <script> 里还有内联代码/]
  ])("refuses %s, naming the file, and writes nothing", async (body, message) => {
    const dir = await mkdtemp(join(tmpdir(), "fundwatch-csp-"));
    temps.push(dir);
    await mkdir(join(dir, "ok"));
    await writeFile(join(dir, "ok", "b.html"), "<script>fine()</script>");
    await writeFile(join(dir, "a.html"), body);
    const before = await tree(dir);
    await expect(externalizeInlineScripts(dir)).rejects.toThrow(message);
    await expect(externalizeInlineScripts(dir)).rejects.toThrow(/内容安全策略（CSP）/);
    expect(await tree(dir)).toEqual(before);
  });
  it("refuses a page with a <base> outside the site's root folder", async () => {
    const dir = await mkdtemp(join(tmpdir(), "fundwatch-csp-"));
    temps.push(dir);
    await mkdir(join(dir, "sub"));
    await writeFile(
      join(dir, "sub", "p.html"),
      '<base href="/"><script type="module">import "./x.js";</script>'
    );
    await expect(externalizeInlineScripts(dir)).rejects.toThrow(/sub\/p\.html：页面有 <base href>/);
  });
});

describe("externalizeCssDataImages(distDir)", () => {
  it("moves data: images out of a style sheet, renames the hashed sheet and updates the pages linking it", async () => {
    const dir = await fakeSite();
    expect(await externalizeCssDataImages(dir)).toEqual({stylesheets: 1, images: 2});
    const sheets = (await readdir(join(dir, "_import"))).filter((f) => f.endsWith(".css"));
    expect(sheets).toHaveLength(1);
    const css = await readFile(join(dir, "_import", sheets[0]!), "utf-8");
    expect(sheets[0]).toBe(`style.${sha8(css)}.css`);
    const svg = Buffer.from(decodeURIComponent(CARET.slice("data:image/svg+xml,".length)));
    const png = Buffer.from("iVBORw0KGgo=", "base64");
    expect(css).toBe(
      `:root{--theme-caret: url("./inline.${sha8(svg)}.svg");--x:1}a{background:url("./inline.${sha8(png)}.png")}` +
        'b{src:url("data:font/woff2;base64,AAAA")}'
    );
    expect(await readFile(join(dir, "_import", `inline.${sha8(svg)}.svg`))).toEqual(svg);
    expect(await readFile(join(dir, "_import", `inline.${sha8(png)}.png`))).toEqual(png);
    for (const file of ["index.html", "district/640100.html", "404.html"]) {
      const html = await readFile(join(dir, file), "utf-8");
      expect(html, file).toContain(`_import/${sheets[0]}"`);
      expect(html, file).not.toContain("style.35aac5b2.css");
    }
    expect(await externalizeCssDataImages(dir)).toEqual({stylesheets: 0, images: 0});
  });
  it("refuses to rename a style sheet a script names, writing nothing", async () => {
    const dir = await fakeSite();
    await writeFile(join(dir, "_observablehq", "client.d10d8454.js"), 'load("_import/style.35aac5b2.css")');
    const before = await tree(dir);
    await expect(externalizeInlineScripts(dir)).rejects.toThrow(/引用了样式表 style\.35aac5b2\.css/);
    expect(await tree(dir)).toEqual(before);
    await expect(externalizeCssDataImages(dir)).rejects.toThrow(
      /client\.d10d8454\.js 引用了样式表 style\.35aac5b2\.css/
    );
  });
  it("rewrites an unhashed style sheet in place", async () => {
    const dir = await mkdtemp(join(tmpdir(), "fundwatch-csp-"));
    temps.push(dir);
    await mkdir(join(dir, "css"));
    await writeFile(join(dir, "css", "plain.css"), "a{background:url('data:image/gif;base64,R0lGODlh')}");
    expect(await externalizeCssDataImages(dir)).toEqual({stylesheets: 1, images: 1});
    const gif = Buffer.from("R0lGODlh", "base64");
    expect(await readFile(join(dir, "css", "plain.css"), "utf-8")).toBe(
      `a{background:url("./inline.${sha8(gif)}.gif")}`
    );
    expect(dirname(join(dir, "css", `inline.${sha8(gif)}.gif`))).toBe(join(dir, "css"));
    expect(await readFile(join(dir, "css", `inline.${sha8(gif)}.gif`))).toEqual(gif);
  });
});
