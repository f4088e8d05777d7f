/**
 * `npm run dev`: Framework's preview server with live reload.
 * Pages and the SDK (reports/sdk → src/) reload on save by themselves. Data loaders are cached by
 * Framework and rerun only when the loader file is newer than its output, so this script also
 * watches src/, loaders/ and data/ and touches the thin loaders in reports/data/ on any change:
 * an edit to the SDK or an input file reruns the loaders with no cache to clear by hand.
 * Framework reads the configuration again only when its file changes, so an edit to the navigation
 * (reports/navigation.json, e.g. by `npm run new:report`) touches observablehq.config.ts.
 */
import {spawn} from "node:child_process";
import {watch} from "node:fs";
import {readdir, utimes} from "node:fs/promises";
import {join} from "node:path";
import {fileURLToPath} from "node:url";
import {clearLoaderCache} from "./build.js";

const root = fileURLToPath(new URL("../", import.meta.url));
const loadersDir = join(root, "reports", "data");

async function touchLoaders(reason: string): Promise<void> {
  const now = new Date();
  const files = (await readdir(loadersDir)).filter((f) => /\.(ts|js|py|sh)$/.test(f));
  await Promise.all(files.map((f) => utimes(join(loadersDir, f), now, now)));
  console.error(`[fundwatch] ${reason} 已变更：数据加载程序将重新运行`);
}

let timer: NodeJS.Timeout | undefined;
for (const dir of ["src", "loaders", "data"]) {
  watch(join(root, dir), {recursive: true}, (_event, file) => {
    clearTimeout(timer);
    timer = setTimeout(() => void touchLoaders(`${dir}/${file ?? ""}`), 200);
  });
}

const config = join(root, "observablehq.config.ts");
watch(join(root, "reports"), (_event, file) => {
  if (file !== "navigation.json") return;
  const now = new Date();
  void utimes(config, now, now).then(() => console.error("[fundwatch] 导航已变更：重新读取站点配置"));
});

await clearLoaderCache(root);
const port = process.env.PORT ?? "3000";
const child = spawn(
  join(root, "node_modules", ".bin", "observable"),
  ["preview", "--no-open", "--port", port],
  {
    cwd: root,
    stdio: "inherit",
    // A preview shows whatever the data is: a failed completeness gate is reported (and shown on the
    // quality page) instead of stopping the loader, as it stops `npm run build`.
    env: {
      ...process.env,
      OBSERVABLE_TELEMETRY_DISABLE: "true",
      FUNDWATCH_GATES: process.env.FUNDWATCH_GATES ?? "warn"
    }
  }
);
child.on("exit", (code) => process.exit(code ?? 0));
