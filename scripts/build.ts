/**
 * `npm run build`: builds the site into dist/ with no network access but the npm registry.
 * Data loaders always rerun (their cached outputs are removed first), so a rebuild can never
 * publish figures made from older inputs; the HTML gets lang="zh-CN" (Framework has no option).
 */
import {spawn} from "node:child_process";
import {readdir, readFile, rm, writeFile} from "node:fs/promises";
import {join} from "node:path";
import {fileURLToPath} from "node:url";

const projectRoot = fileURLToPath(new URL("../", import.meta.url));

/** Removes cached loader outputs, keeping the bundles of node imports (`_node`), which are keyed by version. */
export async function clearLoaderCache(root = projectRoot): Promise<void> {
  const cache = join(root, "reports", ".observablehq", "cache");
  const entries = await readdir(cache).catch(() => [] as string[]);
  await Promise.all(
    entries.filter((e) => e !== "_node").map((e) => rm(join(cache, e), {recursive: true, force: true}))
  );
}

async function* htmlFiles(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, {withFileTypes: true})) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* htmlFiles(path);
    else if (entry.name.endsWith(".html")) yield path;
  }
}

/** Sets lang="zh-CN" on every page. */
export async function setLang(outDir: string): Promise<number> {
  let count = 0;
  for await (const file of htmlFiles(outDir)) {
    const text = await readFile(file, "utf-8");
    if (!text.includes('<html lang="zh-CN">\n')) {
      if (!text.includes("<html>\n")) throw new Error(`${file}: 找不到 <html> 标签，无法设置 lang`);
      await writeFile(file, text.replace("<html>\n", '<html lang="zh-CN">\n'));
    }
    ++count;
  }
  return count;
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {cwd, env, stdio: ["ignore", "inherit", "inherit"]});
    child.on("error", reject);
    child.on("exit", (code, signal) =>
      code === 0
        ? resolve()
        : reject(new Error(`${command} ${args.join(" ")} 失败（${signal ?? `退出码 ${code}`}）`))
    );
  });
}

/** Builds the site of the project at `root` (default: this one) into `root/dist`. */
export async function build({
  root = projectRoot,
  env = process.env
}: {root?: string; env?: NodeJS.ProcessEnv} = {}): Promise<void> {
  await clearLoaderCache(root);
  const observable = join(root, "node_modules", ".bin", "observable");
  await run(observable, ["build"], root, {...env, OBSERVABLE_TELEMETRY_DISABLE: "true"});
  const pages = await setLang(join(root, "dist"));
  console.error(`[fundwatch] 构建完成：${pages} 个页面，输出目录 dist/`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  build().catch((error: unknown) => {
    console.error(`[fundwatch] 构建失败：${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
