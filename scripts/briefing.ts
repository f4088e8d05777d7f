/**
 * The PDF briefing (简报): the overview and one section per city (地市), each page of the built site
 * opened in headless Chromium, checked like the page checker does, printed to A4 with the site's print
 * stylesheet, and merged in order into one PDF with pdf-lib. Written to dist/briefing/ only when every
 * section rendered: a briefing with a broken page is never written. Nothing leaves the machine: the
 * site is served on 127.0.0.1 and every request to another origin is blocked.
 */
import {chmod, mkdtemp, readdir, rename, rm, writeFile} from "node:fs/promises";
import type {Server} from "node:http";
import {join} from "node:path";
import {DuckDBInstance} from "@duckdb/node-api";
import {PDFArray, PDFDict, PDFDocument, PDFHexString, PDFName, PDFNumber, PDFRef, PDFString} from "pdf-lib";
import {chromium, type Browser} from "playwright-core";
import {CHROMIUM_ARGS, findChromium as defaultFindChromium} from "./browser.js";
import {errorCells, openSettled, pageTimeoutMs, settle, watchPage} from "./check-pages.js";
import {formatDate} from "../src/format/date.js";
import {displayText} from "../src/format/text.js";
import {startServer} from "./serve.js";

export interface BriefingSection {
  /** The page's URL path on the site, e.g. `/` or `/district/640100`. */
  path: string;
  title: string;
  /** Its number of A4 pages. */
  pages: number;
  /** Its own PDF in dist/briefing/. */
  file: string;
}

export interface BriefingSummary {
  /** The merged PDF; absent when the briefing was skipped. */
  file?: string;
  sections: BriefingSection[];
  /** Why no briefing was written (Chromium missing); absent when it was. */
  skipped?: string;
}

export interface BriefingOptions {
  /** The built site (dist/). */
  dist: string;
  /** A running Chromium to use (left open); by default one is launched and closed. */
  browser?: Browser;
  /** Progress lines; console.error by default. */
  log?: (message: string) => void;
  /** Finds the Chromium executable or throws if there is none; injectable so tests can simulate its absence. */
  findChromium?: () => string;
  /** The pages to include instead of the overview and every city (for tests). */
  sections?: {path: string; title: string}[];
  /** Per page, in ms: to open and settle. */
  timeoutMs?: number;
}

const A4_WIDTH_MM = 210;
const A4_HEIGHT_MM = 297;
/** The same margins as `@page` in reports/style.css; the bottom one holds the page-number footer. */
const MARGIN_MM = {top: 14, right: 12, bottom: 14, left: 12};
const PX_PER_MM = 96 / 25.4;

export function briefingTitle(asOf: string): string {
  return `医保基金监管分析简报（数据截至 ${formatDate(asOf)}）`;
}

/** The site's database file in dist/_file/data/ (Framework adds a content hash to its name). */
export async function databaseFile(dist: string): Promise<string> {
  const dir = join(dist, "_file", "data");
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) =>
    /^fundwatch\.[0-9a-f]+\.duckdb$/.test(f)
  );
  const [file] = files;
  if (!file || files.length > 1)
    throw new Error(`${dir} 中应有且只有一个 fundwatch.*.duckdb 数据文件，实有 ${files.length} 个`);
  return join(dir, file);
}

interface SiteData {
  asOf: string;
  generatedAt: string;
  cities: {code: string; name: string}[];
}

/** The as-of date, the build time and the cities (sorted by code), read from the site's own database. */
export async function readSiteData(dist: string): Promise<SiteData> {
  const instance = await DuckDBInstance.create(await databaseFile(dist), {access_mode: "READ_ONLY"});
  try {
    const conn = await instance.connect();
    try {
      const meta = (await conn.runAndReadAll("SELECT key, value FROM meta")).getRowObjectsJS();
      const get = (key: string): string => String(meta.find((r) => r.key === key)?.value ?? "");
      const cities = (
        await conn.runAndReadAll("SELECT code, name FROM divisions WHERE level = '市' ORDER BY code")
      )
        .getRowObjectsJS()
        .map((r) => ({code: String(r.code), name: String(r.name)}));
      const asOf = get("as_of");
      formatDate(asOf); // validates
      return {asOf, generatedAt: get("generated_at"), cities};
    } finally {
      conn.closeSync();
    }
  } finally {
    instance.closeSync();
  }
}

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"})[c] ?? c
  );
}

/** A file name from a section title: characters no file system takes become `_`. */
function fileName(index: number, title: string): string {
  return `${String(index).padStart(2, "0")}-${title.replace(/[/\\:*?"<>|\s]+/g, "_")}.pdf`;
}

function footerTemplate(title: string): string {
  return (
    `<div style="width:100%;margin:0 12mm;font-size:8px;color:#444;` +
    `font-family:'Noto Sans CJK SC','Noto Sans SC',sans-serif;display:flex;justify-content:space-between">` +
    `<span>医保基金监管分析简报 · ${escapeHtml(title)}</span>` +
    `<span>第 <span class="pageNumber"></span> 页 / 共 <span class="totalPages"></span> 页</span></div>`
  );
}

/** Opens one section and prints it; the PDF's bytes, or the page's problems. */
async function renderSection(
  browser: Browser,
  baseUrl: string,
  section: {path: string; title: string},
  timeoutMs: number
): Promise<{pdf: Uint8Array; problems: []} | {problems: string[]}> {
  // The viewport is as wide as the printed text, so charts sized to their container are drawn at the
  // width they will have on paper.
  const width = Math.floor((A4_WIDTH_MM - MARGIN_MM.left - MARGIN_MM.right) * PX_PER_MM);
  const context = await browser.newContext({
    viewport: {width, height: Math.floor(A4_HEIGHT_MM * PX_PER_MM)},
    locale: "zh-CN",
    timezoneId: "Asia/Shanghai"
  });
  try {
    const page = await context.newPage();
    const problems: string[] = [];
    await watchPage(page, new URL(baseUrl).origin, problems);
    const url = new URL(section.path.replace(/^\//, ""), baseUrl).href;
    const response = await openSettled(page, url, problems, timeoutMs);
    // A page that is not there (404) is the problem; what its 404 page then logs is noise.
    if (!response?.ok()) return {problems: [`页面打开失败：HTTP ${response?.status() ?? "无响应"}`]};
    problems.push(...(await errorCells(page)));
    if (problems.length > 0) return {problems};
    // Print media hides navigation and filters, which resizes the content: let it redraw, then look again.
    await page.emulateMedia({media: "print"});
    if (!(await settle(page, timeoutMs))) problems.push(`切换到打印样式后 ${timeoutMs / 1000} 秒内没有稳定`);
    problems.push(...(await errorCells(page)));
    if (problems.length > 0) return {problems};
    const pdf = await page.pdf({
      format: "A4",
      printBackground: true,
      preferCSSPageSize: true,
      displayHeaderFooter: true,
      headerTemplate: "<span></span>",
      footerTemplate: footerTemplate(section.title),
      margin: {
        top: `${MARGIN_MM.top}mm`,
        right: `${MARGIN_MM.right}mm`,
        bottom: `${MARGIN_MM.bottom}mm`,
        left: `${MARGIN_MM.left}mm`
      }
    });
    // Anything the page reported while printing counts too.
    if (problems.length > 0) return {problems};
    return {pdf: new Uint8Array(pdf), problems: []};
  } catch (error) {
    // A navigation that timed out, a crashed page: still a problem of this page, named as such.
    return {
      problems: [`无法打开或打印：${error instanceof Error ? error.message.split("\n")[0] : String(error)}`]
    };
  } finally {
    await context.close();
  }
}

/** Removes the link annotations of `doc`'s pages (from `from` on) for which `drop` is true. */
function removeLinks(doc: PDFDocument, drop: (annot: PDFDict) => boolean, from = 0): void {
  for (const page of doc.getPages().slice(from)) {
    const annots = page.node.Annots();
    if (!annots) continue;
    for (let i = annots.size() - 1; i >= 0; --i) {
      const annot = annots.lookup(i);
      if (
        annot instanceof PDFDict &&
        annot.lookup(PDFName.of("Subtype")) === PDFName.of("Link") &&
        drop(annot)
      ) {
        const ref = annots.get(i);
        annots.remove(i);
        if (ref instanceof PDFRef) doc.context.delete(ref);
      }
    }
    if (annots.size() === 0) page.node.delete(PDFName.of("Annots"));
  }
}

/**
 * Links to the local server: their addresses (127.0.0.1 and a random port) mean nothing on paper or
 * on another machine, and must not end up in the file.
 */
function isServerLink(origin: string): (annot: PDFDict) => boolean {
  return (annot) => {
    const action = annot.lookup(PDFName.of("A"));
    const uri = action instanceof PDFDict ? action.lookup(PDFName.of("URI")) : undefined;
    const text = uri instanceof PDFString || uri instanceof PDFHexString ? uri.decodeText() : "";
    return text.startsWith(origin) || /^https?:\/\/(127\.|localhost[:/])/.test(text);
  };
}

/**
 * Links to a named destination (Chromium makes one for each heading anchor): the names live in the
 * section's catalog, which copying pages into the merged file does not carry over.
 */
function isNamedDestinationLink(annot: PDFDict): boolean {
  const action = annot.lookup(PDFName.of("A"));
  const dest =
    annot.lookup(PDFName.of("Dest")) ??
    (action instanceof PDFDict ? action.lookup(PDFName.of("D")) : undefined);
  return dest instanceof PDFName || dest instanceof PDFString || dest instanceof PDFHexString;
}

function setMetadata(doc: PDFDocument, title: string, date: Date, subject?: string): void {
  doc.setTitle(title, {showInWindowTitleBar: true});
  doc.setLanguage("zh-CN");
  doc.setCreator("Fundwatch");
  doc.setProducer("Fundwatch");
  doc.setAuthor("Fundwatch");
  if (subject) doc.setSubject(subject);
  doc.setCreationDate(date);
  doc.setModificationDate(date);
  // Chromium's XMP metadata names its own title, tool and time: drop it, the Info dictionary says it all.
  doc.catalog.delete(PDFName.of("Metadata"));
}

/** Bookmarks: one per section, pointing at its first page. */
function addOutline(doc: PDFDocument, entries: {title: string; pageIndex: number}[]): void {
  const context = doc.context;
  const pages = doc.getPages();
  const outlineRef = context.nextRef();
  const refs: PDFRef[] = entries.map(() => context.nextRef());
  entries.forEach((entry, i) => {
    const page = pages[entry.pageIndex];
    const ref = refs[i];
    if (!page || !ref) return;
    const dest = PDFArray.withContext(context);
    dest.push(page.ref);
    dest.push(PDFName.of("Fit"));
    const item = context.obj({}) as PDFDict;
    item.set(PDFName.of("Title"), PDFHexString.fromText(entry.title));
    item.set(PDFName.of("Parent"), outlineRef);
    item.set(PDFName.of("Dest"), dest);
    const prev = refs[i - 1];
    const next = refs[i + 1];
    if (prev) item.set(PDFName.of("Prev"), prev);
    if (next) item.set(PDFName.of("Next"), next);
    context.assign(ref, item);
  });
  const outline = context.obj({}) as PDFDict;
  outline.set(PDFName.of("Type"), PDFName.of("Outlines"));
  const first = refs[0];
  const last = refs[refs.length - 1];
  if (first && last) {
    outline.set(PDFName.of("First"), first);
    outline.set(PDFName.of("Last"), last);
  }
  outline.set(PDFName.of("Count"), PDFNumber.of(refs.length));
  context.assign(outlineRef, outline);
  doc.catalog.set(PDFName.of("Outlines"), outlineRef);
  doc.catalog.set(PDFName.of("PageMode"), PDFName.of("UseOutlines"));
}

/** Replaces `target` with `staged` (both directories): the old one stays until the new one is in place. */
export async function replaceDirectory(staged: string, target: string): Promise<void> {
  const old = `${staged}-old`;
  const hadOld = await rename(target, old).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return false;
      throw error;
    }
  );
  try {
    await rename(staged, target);
  } catch (error) {
    if (hadOld) await rename(old, target);
    throw error;
  }
  if (hadOld) await rm(old, {recursive: true, force: true});
}

/** Renders the briefing of the built site in `dist` into dist/briefing/; see the module comment. */
export async function writeBriefing(options: BriefingOptions): Promise<BriefingSummary> {
  const {dist, log = (message: string) => console.error(message)} = options;
  const timeoutMs = options.timeoutMs ?? (await pageTimeoutMs(dist));
  let executablePath: string | undefined;
  if (!options.browser) {
    try {
      executablePath = (options.findChromium ?? defaultFindChromium)();
    } catch (error) {
      return {sections: [], skipped: error instanceof Error ? error.message : String(error)};
    }
  }
  const data = await readSiteData(dist);
  const wanted = options.sections ?? [
    {path: "/", title: "总览"},
    // A city's name as the pages show it (cleaned and cut): it names a file, a bookmark and a footer.
    ...data.cities.map((c) => ({path: `/district/${c.code}`, title: displayText(c.name)}))
  ];
  const date = new Date(data.generatedAt);
  const stamp = Number.isNaN(date.getTime()) ? new Date(`${data.asOf}T00:00:00+08:00`) : date;
  const staging = await mkdtemp(join(dist, ".briefing-"));
  let launched: Browser | undefined;
  let server: Server | undefined;
  try {
    const browser =
      options.browser ??
      (launched = await chromium
        .launch({executablePath, headless: true, args: CHROMIUM_ARGS})
        .catch((error: unknown) => {
          throw new Error(
            `无法启动 Chromium（${executablePath}）：${error instanceof Error ? error.message : String(error)}`
          );
        }));
    const started = await startServer({root: dist});
    server = started.server;
    const origin = new URL(started.url).origin;
    const merged = await PDFDocument.create({updateMetadata: false});
    const sections: BriefingSection[] = [];
    const outline: {title: string; pageIndex: number}[] = [];
    const broken: string[] = [];
    for (const [index, section] of wanted.entries()) {
      const result = await renderSection(browser, started.url, section, timeoutMs);
      if (!("pdf" in result)) {
        broken.push(`${section.path}（${section.title}）：${result.problems.join("；")}`);
        log(`[fundwatch] 简报：${section.title}（${section.path}）有问题`);
        continue;
      }
      const doc = await PDFDocument.load(result.pdf, {updateMetadata: false});
      removeLinks(doc, isServerLink(origin));
      setMetadata(doc, `医保基金监管分析 · ${section.title}（数据截至 ${formatDate(data.asOf)}）`, stamp);
      const name = fileName(index, section.title);
      await writeFile(join(staging, name), await doc.save());
      outline.push({title: section.title, pageIndex: merged.getPageCount()});
      const first = merged.getPageCount();
      for (const page of await merged.copyPages(doc, doc.getPageIndices())) merged.addPage(page);
      removeLinks(merged, isNamedDestinationLink, first);
      sections.push({
        path: section.path,
        title: section.title,
        pages: doc.getPageCount(),
        file: join(dist, "briefing", name)
      });
      log(`[fundwatch] 简报：${section.title}（${section.path}）${doc.getPageCount()} 页`);
    }
    if (broken.length > 0)
      throw new Error(
        `PDF 简报未生成，${broken.length} 个页面有问题：\n${broken.map((b) => `  ${b}`).join("\n")}`
      );
    setMetadata(
      merged,
      briefingTitle(data.asOf),
      stamp,
      `总览及各地市报告：${sections.map((s) => s.title).join("、")}`
    );
    addOutline(merged, outline);
    const name = `简报-${data.asOf}.pdf`;
    await writeFile(join(staging, name), await merged.save());
    await chmod(staging, 0o755); // mkdtemp makes it private; the web server must read it
    await replaceDirectory(staging, join(dist, "briefing"));
    return {file: join(dist, "briefing", name), sections};
  } finally {
    await rm(staging, {recursive: true, force: true});
    await launched?.close();
    server?.closeAllConnections();
    server?.close();
  }
}
