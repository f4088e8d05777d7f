/**
 * The site's navigation: reports/navigation.json, a list of {name, path} in the order shown. It lives
 * in reports/ so that an analyst adds a page without editing anything outside it (`npm run new:report`
 * adds the entry itself). observablehq.config.ts reads it on every config read (so `npm run dev`
 * shows an edit at once); each entry must name a page that exists.
 */
import {existsSync, readFileSync} from "node:fs";
import {readdir} from "node:fs/promises";
import {join, relative} from "node:path";

export interface NavEntry {
  name: string;
  path: string;
}

export const NAVIGATION_FILE = "navigation.json";

/** The Markdown file a site path is built from (`/` → index.md, `/a/b` → a/b.md). */
export function pageSource(reportsRoot: string, path: string): string {
  const clean = path.replace(/^\/+/, "").replace(/\/+$/, "");
  return join(reportsRoot, clean === "" ? "index.md" : `${clean}.md`);
}

/** Checks a parsed navigation list; throws in Chinese naming the entry at fault. */
export function checkNavigation(value: unknown, reportsRoot: string): NavEntry[] {
  const where = `reports/${NAVIGATION_FILE}`;
  if (!Array.isArray(value)) throw new Error(`${where} 应为列表，例如 [{"name": "总览", "path": "/"}]`);
  const seen = new Set<string>();
  return value.map((entry: unknown, i) => {
    const at = `${where} 第 ${i + 1} 项`;
    if (typeof entry !== "object" || entry === null) throw new Error(`${at} 应为 {"name": …, "path": …}`);
    const {name, path} = entry as Record<string, unknown>;
    if (typeof name !== "string" || name.trim() === "") throw new Error(`${at} 缺少名称 name`);
    if (typeof path !== "string" || !path.startsWith("/"))
      throw new Error(`${at}（${name}）的 path 应以 / 开头，例如 "/my-report"`);
    if (seen.has(path)) throw new Error(`${at}（${name}）：页面 ${path} 已在导航中`);
    seen.add(path);
    if (!existsSync(pageSource(reportsRoot, path)))
      throw new Error(`${at}（${name}）：找不到页面 ${path}（应有文件 ${pageSource(reportsRoot, path)}）`);
    return {name, path};
  });
}

/** Reads and checks reports/navigation.json. */
export function readNavigation(reportsRoot: string): NavEntry[] {
  const file = join(reportsRoot, NAVIGATION_FILE);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf-8"));
  } catch (error) {
    throw new Error(`无法读取导航 ${file}：${error instanceof Error ? error.message : String(error)}`);
  }
  return checkNavigation(parsed, reportsRoot);
}

/** Folders of reports/ that hold no pages of their own (the SDK link, data loaders, components). */
const NOT_PAGES = new Set(["sdk", "data", "components", ".observablehq", "node_modules"]);

/**
 * The folders (relative to reports/, "/"-separated) that hold a parameterized page `[code].md`: each
 * gets one page per division code, e.g. reports/district/[code].md → /district/640100. An analyst
 * adds such a page by creating the file; the configuration finds it.
 */
export async function codePageFolders(reportsRoot: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, {withFileTypes: true})) {
      if (entry.isDirectory() && !NOT_PAGES.has(entry.name)) await walk(join(dir, entry.name));
      else if (entry.isFile() && entry.name === "[code].md" && dir !== reportsRoot)
        found.push(relative(reportsRoot, dir).split("\\").join("/"));
    }
  };
  await walk(reportsRoot);
  return found.sort();
}
