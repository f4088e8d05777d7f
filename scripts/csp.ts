/**
 * The site's Content-Security-Policy, and the post-processing that lets a built Framework site run
 * under it: Framework 1.13 writes inline scripts into every page, which a policy without
 * 'unsafe-inline' refuses to run. {@link externalizeInlineScripts} moves each one into a file of its
 * own. The same policy is sent by scripts/serve.ts (so every browser test runs under it) and by the
 * nginx configuration in deploy/nginx/ (test/browser/nginx.test.ts checks both agree).
 */
import {createHash} from "node:crypto";
import {mkdir, readdir, readFile, rm, writeFile} from "node:fs/promises";
import {basename, dirname, join, relative, resolve, sep} from "node:path";

/**
 * Only the site's own origin, for everything:
 * - `script-src 'self' 'wasm-unsafe-eval'`: scripts from the site's files only: no inline script (see
 *   {@link externalizeInlineScripts}), no eval. 'wasm-unsafe-eval' lets DuckDB-WASM compile its
 *   WebAssembly module; it allows WebAssembly compilation only, not JavaScript eval.
 * - `style-src 'self'`: style sheets from the site's files only; no `<style>` element. The SDK's `Plot`
 *   removes the `<style>` element Observable Plot puts in every chart and legend, and the site's style
 *   sheet carries its rules (src/charts/plot.ts, reports/style.css).
 * - `style-src-attr 'unsafe-inline'`, the one relaxation: it allows `style="…"` attributes only (not
 *   `<style>` elements, not style sheets from elsewhere). Observable Inputs (0.12, in the SDK's filter
 *   bar: Inputs.select, and Inputs.text for the dates; also Inputs.range, search, table… that analysts may use) build
 *   their forms with htl's html`<form style=${{"--input-width": …}}>`: htl first writes a placeholder
 *   attribute `style="::1"` into the markup it parses and imports into the page, then removes it and
 *   sets the style through the DOM (`element.style`, which no policy restricts). The placeholder is an
 *   inline style attribute: without this directive each input makes the browser report a violation
 *   (4 per filter bar). It cannot be avoided short of not using Inputs. A style attribute cannot run
 *   script, and with `img-src`/`font-src`/`connect-src` limited to the site it cannot fetch anything
 *   from elsewhere either.
 * - `img-src` (from default-src 'self'): Framework's theme draws its icons as `data:` images in CSS;
 *   {@link externalizeCssDataImages} moves them into files.
 * - `worker-src 'self'`: DuckDB-WASM's worker, started from the site's own file (no blob: worker).
 * - `connect-src 'self'`: fetch() of data files and the WebAssembly module, only from the site.
 * - `object-src 'none'`, `base-uri 'self'`, `form-action 'self'`, `frame-ancestors 'self'`: no
 *   plug-ins, no `<base>` pointing elsewhere (404.html has `<base href="/">`), no form posted
 *   elsewhere, no framing by another site.
 */
export const CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self'",
  "style-src-attr 'unsafe-inline'",
  "worker-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'self'"
].join("; ");

/** The headers every response of the site carries, from scripts/serve.ts and from nginx alike. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "Content-Security-Policy": CSP,
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer"
};

async function* filesEndingWith(dir: string, ext: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, {withFileTypes: true})) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* filesEndingWith(path, ext);
    else if (entry.isFile() && entry.name.endsWith(ext)) yield path;
  }
}

/** An HTML tag's attributes, names lower-cased; a bare attribute has the value "". */
function attributes(source: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const m of source.matchAll(/([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g)) {
    const name = m[1];
    if (name) map.set(name.toLowerCase(), m[2] ?? m[3] ?? m[4] ?? "");
  }
  return map;
}

/** The `type` values a browser runs as a classic script (https://html.spec.whatwg.org/#javascript-mime-type). */
const CLASSIC =
  /^(|text\/javascript|application\/javascript|application\/ecmascript|application\/x-ecmascript|application\/x-javascript|text\/ecmascript|text\/javascript1\.[0-5]|text\/jscript|text\/livescript|text\/x-ecmascript|text\/x-javascript)$/;

const SCRIPT = /<script\b((?:[^>"']|"[^"]*"|'[^']*')*)>([\s\S]*?)<\/script\s*>/gi;
const TAG = /<([a-zA-Z][^\s/>]*)((?:\s+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*)\s*\/?>/g;

const sha8 = (data: string | Buffer): string => createHash("sha256").update(data).digest("hex").slice(0, 8);

/** What in `html` (inline scripts already moved out) a policy without 'unsafe-inline' still refuses. */
function inlineLeft(html: string): string[] {
  const left: string[] = [];
  const text = html.replace(/<!--[\s\S]*?-->/g, "");
  for (const tag of text.matchAll(TAG)) {
    for (const [name, value] of attributes(tag[2] ?? "")) {
      if (/^on[a-z]+$/.test(name))
        left.push(`<${tag[1]}> 的内联事件处理属性 ${name}="${value.slice(0, 60)}"`);
      else if (/^(href|src|action|formaction|xlink:href)$/.test(name) && /^\s*javascript:/i.test(value))
        left.push(`<${tag[1]}> 的 ${name} 使用了 javascript: 地址`);
    }
  }
  return left;
}

/**
 * Moves every inline `<script>` of every page under `distDir` (all .html, 404.html included) into a
 * file of its own whose name carries the first 8 hex digits of the sha256 of its content, so the
 * site runs under {@link CSP} (no 'unsafe-inline'), with the same behaviour:
 * - a module script (Framework's page code: relative imports such as `../_observablehq/client.….js`
 *   and `registerFile("../data/…")`) goes next to its page, `district/640100.html` →
 *   `district/640100.<hash>.js`, loaded by `<script type="module" src="./640100.<hash>.js">`: a module
 *   resolves its imports against its own address, which is then the page's folder, as before (and
 *   module scripts, inline or not, run deferred, in document order);
 * - a classic script (Framework's sidebar script, the same on every page) goes to
 *   `_observablehq/inline.<hash>.js`, shared by every page, loaded by a plain `<script src>` in the
 *   same place: no defer or async, so it still runs synchronously while the page is parsed. (Its
 *   relative URLs, if any, resolve against the page as before; only a dynamic `import()` would
 *   resolve differently, so a classic script containing one is refused.)
 * Other attributes (nonce, integrity, crossorigin…) are kept. Data blocks (`type="application/json"`
 * …) are not run and are left alone. Idempotent: a second run finds nothing to move and writes
 * nothing. Throws, naming the file, on what it cannot move: an inline event handler (`onclick=`), a
 * `javascript:` address, an inline import map, or a classic script with `import()`.
 *
 * It also moves the `data:` images out of the style sheets ({@link externalizeCssDataImages}), the
 * other thing of a Framework build the policy refuses, so that this one call after the build makes the
 * site run under {@link CSP}.
 *
 * @returns the number of pages rewritten and of scripts moved, of style sheets rewritten and of
 *   images moved
 */
export async function externalizeInlineScripts(
  distDir: string
): Promise<{pages: number; scripts: number; stylesheets: number; images: number}> {
  const problems: string[] = [];
  const changes: {file: string; html: string; outputs: Map<string, string>; moved: number}[] = [];
  for await (const file of filesEndingWith(distDir, ".html")) {
    const html = await readFile(file, "utf-8");
    const where = relative(distDir, file).split(sep).join("/");
    const outputs = new Map<string, string>();
    // Framework's 404.html has `<base href="/">`, the site's root: an address written relative to the
    // page's folder then resolves as it should only when that folder is the root.
    const based = /<base\b[^>]*\bhref\s*=/i.test(html) && resolve(dirname(file)) !== resolve(distDir);
    let moved = 0;
    const rewritten = html.replace(SCRIPT, (whole, attrSource: string, body: string) => {
      const attrs = attributes(attrSource);
      if (attrs.has("src")) {
        if (body.trim() !== "") problems.push(`${where}：带 src 的 <script> 里还有内联代码`);
        return whole;
      }
      const type = (attrs.get("type") ?? "").trim().toLowerCase();
      const module = type === "module";
      if (!module && !CLASSIC.test(type)) {
        if (type === "importmap") problems.push(`${where}：内联的 import map 无法移到外部文件`);
        return whole; // a data block: never run, so the policy does not apply
      }
      if (based) {
        problems.push(`${where}：页面有 <base href>，且不在站点根目录，无法确定外部脚本的等价地址`);
        return whole;
      }
      if (!module && /\bimport\s*\(/.test(body)) {
        problems.push(`${where}：经典脚本中的 import() 移到外部文件后会按新地址解析，无法等价移动`);
        return whole;
      }
      const name = module
        ? `${basename(file, ".html")}.${sha8(body)}.js`
        : `_observablehq/inline.${sha8(body)}.js`;
      const target = module ? join(dirname(file), name) : join(distDir, name);
      outputs.set(target, body);
      let url = relative(dirname(file), target).split(sep).join("/");
      if (!url.startsWith(".")) url = `./${url}`;
      // An inline classic script ignores defer and async; its external copy must too, to run in place.
      const dropped = module ? ["src", "type"] : ["src", "type", "defer", "async"];
      const kept = [...attrs]
        .filter(([key]) => !dropped.includes(key))
        .map(([key, value]) => (value === "" ? ` ${key}` : ` ${key}="${value}"`))
        .join("");
      ++moved;
      return `<script${module ? ' type="module"' : ""} src="${url}"${kept}></script>`;
    });
    for (const left of inlineLeft(rewritten)) problems.push(`${where}：${left}`);
    if (moved > 0) changes.push({file, html: rewritten, outputs, moved});
  }
  // Nothing is written unless every page and style sheet can be rewritten.
  if (problems.length > 0)
    throw new Error(
      `以下内联脚本无法移到外部文件，站点在内容安全策略（CSP）下将无法运行：\n${problems.map((p) => `  ${p}`).join("\n")}`
    );
  const writeStylesheets = await planCssDataImages(distDir);
  let scripts = 0;
  for (const {file, html, outputs, moved} of changes) {
    for (const [target, body] of outputs) {
      await mkdir(dirname(target), {recursive: true});
      await writeFile(target, body);
    }
    await writeFile(file, html);
    scripts += moved;
  }
  // After the pages are written: it renames style sheets in them.
  const {stylesheets, images} = await writeStylesheets();
  return {pages: changes.length, scripts, stylesheets, images};
}

const IMAGE_EXTENSIONS: Record<string, string> = {
  "image/svg+xml": "svg",
  "image/png": "png",
  "image/gif": "gif",
  "image/jpeg": "jpg",
  "image/webp": "webp",
  "image/avif": "avif",
  "image/x-icon": "ico"
};

/** The bytes of a `data:` URL's body: base64, or percent-encoded text. */
function dataBytes(body: string, base64: boolean): Buffer {
  if (base64) return Buffer.from(decodeURIComponent(body), "base64");
  const bytes: number[] = [];
  for (let i = 0; i < body.length; ++i) {
    const hex = body[i] === "%" ? body.slice(i + 1, i + 3) : "";
    if (/^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      const code = body.codePointAt(i) ?? 0;
      if (code > 0xffff) ++i;
      bytes.push(...Buffer.from(String.fromCodePoint(code)));
    }
  }
  return Buffer.from(bytes);
}

const CSS_DATA_URL = /url\(\s*(?:"(data:[^"]*)"|'(data:[^']*)'|(data:[^)"'\s]*))\s*\)/g;

/**
 * Moves every `data:` image in the style sheets under `distDir` into a file of its own, next to the
 * style sheet: `url("data:image/svg+xml,…")` → `url("./inline.<hash>.svg")`. Framework's default theme
 * draws the sidebar toggle, the caret of collapsible sections and the search magnifier as `data:` SVG
 * images (CSS variables `--theme-toggle`, `--theme-caret`, `--theme-magnifier`), which {@link CSP}
 * refuses (`img-src` falls back to `default-src 'self'`). A style sheet so changed gets a new name
 * when its name carries Framework's content hash (`style.35aac5b2.css` → `style.<new hash>.css`), and
 * the pages and style sheets that link it are updated: a browser that keeps the old file for a year
 * (immutable caching) then never uses it with this policy. Idempotent. Throws if a script names a
 * style sheet it would rename (it cannot follow such a reference).
 *
 * @returns the number of style sheets rewritten and of images moved
 */
export async function externalizeCssDataImages(
  distDir: string
): Promise<{stylesheets: number; images: number}> {
  return (await planCssDataImages(distDir))();
}

/** Checks what {@link externalizeCssDataImages} would do, throwing before anything is written; returns the writing. */
async function planCssDataImages(
  distDir: string
): Promise<() => Promise<{stylesheets: number; images: number}>> {
  const sheets: {file: string; target: string; css: string; outputs: Map<string, Buffer>}[] = [];
  const renamed = new Map<string, string>();
  for await (const file of filesEndingWith(distDir, ".css")) {
    const outputs = new Map<string, Buffer>();
    const css = (await readFile(file, "utf-8")).replace(CSS_DATA_URL, (whole, ...groups: unknown[]) => {
      const url = [groups[0], groups[1], groups[2]].find((g): g is string => typeof g === "string") ?? "";
      const match = /^data:([^,;]*)((?:;[^,;]*)*),([\s\S]*)$/.exec(url);
      const ext = IMAGE_EXTENSIONS[(match?.[1] ?? "").trim().toLowerCase()];
      if (!match || !ext) return whole; // not an image (a font, say): not refused by img-src
      const bytes = dataBytes(match[3] ?? "", /;base64$/i.test(match[2] ?? ""));
      const name = `inline.${sha8(bytes)}.${ext}`;
      outputs.set(join(dirname(file), name), bytes);
      return `url("./${name}")`;
    });
    if (outputs.size === 0) continue;
    const hashed = /^(.*)\.[0-9a-f]{8}\.css$/.exec(basename(file));
    const target = hashed ? join(dirname(file), `${hashed[1]}.${sha8(css)}.css`) : file;
    if (target !== file) renamed.set(basename(file), basename(target));
    sheets.push({file, target, css, outputs});
  }
  const names =
    renamed.size > 0
      ? new RegExp([...renamed.keys()].map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|"), "g")
      : undefined;
  // Nothing is written if a script names a style sheet to be renamed.
  if (names)
    for await (const file of filesEndingWith(distDir, ".js")) {
      const found = (await readFile(file, "utf-8")).match(names);
      if (found)
        throw new Error(
          `${relative(distDir, file).split(sep).join("/")} 引用了样式表 ${found[0]}，无法随样式表改名一起更新`
        );
    }
  return async () => {
    let images = 0;
    for (const {file, target, css, outputs} of sheets) {
      for (const [image, bytes] of outputs) await writeFile(image, bytes);
      await writeFile(target, css);
      if (target !== file) await rm(file);
      images += outputs.size;
    }
    if (names)
      for (const ext of [".html", ".css"])
        for await (const file of filesEndingWith(distDir, ext)) {
          const text = await readFile(file, "utf-8");
          const updated = text.replace(names, (name) => renamed.get(name) ?? name);
          if (updated !== text) await writeFile(file, updated);
        }
    return {stylesheets: sheets.length, images};
  };
}
