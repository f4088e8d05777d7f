/**
 * `npm test`: every check, in one command, the same locally and in CI.
 * Chromium is looked for first: if the browser suite cannot run, the run fails at once saying how
 * to install it (never a silent skip). Then: type check, lint, format check, unit tests, and the
 * browser suite (which builds the site and opens every page). Every step runs even after a failure,
 * so one run reports everything; the last line is "tests: N passed, N failed".
 */
import {spawn} from "node:child_process";
import {existsSync} from "node:fs";
import {mkdir, readFile, rm} from "node:fs/promises";
import {join} from "node:path";
import {fileURLToPath} from "node:url";
import {findChromium} from "./browser.js";

const root = fileURLToPath(new URL("../", import.meta.url));
const bin = (name: string): string => join(root, "node_modules", ".bin", name);

function run(label: string, command: string, args: string[]): Promise<boolean> {
  console.log(`\n▶ ${label}`);
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: root,
      stdio: "inherit",
      env: {...process.env, TZ: "Asia/Shanghai"}
    });
    child.on("error", (error) => {
      console.error(error);
      resolve(false);
    });
    child.on("exit", (code) => {
      console.log(`${code === 0 ? "✔" : "✘"} ${label}（${((Date.now() - started) / 1000).toFixed(1)} 秒）`);
      resolve(code === 0);
    });
  });
}

interface VitestReport {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
}

try {
  console.log(`Chromium：${findChromium()}`);
  // The intranet-serving tests start a real nginx and load it with wrk (Debian packages).
  const missing = [
    ["/usr/sbin/nginx", "nginx-light"],
    ["/usr/bin/wrk", "wrk"]
  ].filter(([path]) => !existsSync(path ?? ""));
  if (missing.length > 0)
    throw new Error(
      `找不到 ${missing.map(([path]) => path).join("、")}：nginx 与负载测试需要它们。请运行：\n` +
        `  sudo apt-get install -y ${missing.map(([, pkg]) => pkg).join(" ")}`
    );
} catch (error) {
  console.error(`\n${error instanceof Error ? error.message : String(error)}\n`);
  console.log("tests: 0 passed, 1 failed");
  process.exit(1);
}

const resultsDir = join(root, "test-results");
await mkdir(resultsDir, {recursive: true});
const vitestJson = join(resultsDir, "vitest.json");
await rm(vitestJson, {force: true});

const gates = [
  ["类型检查 (tsc --noEmit)", bin("tsc"), ["--noEmit", "-p", "tsconfig.json"]],
  ["代码检查 (eslint)", bin("eslint"), ["--max-warnings", "0", "."]],
  ["格式检查 (prettier --check)", bin("prettier"), ["--check", "."]]
] as const;

let gatePassed = 0;
let gateFailed = 0;
for (const [label, command, args] of gates) {
  if (await run(label, command, [...args])) ++gatePassed;
  else ++gateFailed;
}

const vitestOk = await run("单元测试与浏览器测试 (vitest)", bin("vitest"), [
  "run",
  "--reporter=default",
  "--reporter=json",
  `--outputFile.json=${vitestJson}`
]);

let report: VitestReport | undefined;
try {
  report = JSON.parse(await readFile(vitestJson, "utf-8")) as VitestReport;
} catch {
  report = undefined;
}
const passed = gatePassed + (report?.numPassedTests ?? 0);
const skipped = (report?.numPendingTests ?? 0) + (report?.numTodoTests ?? 0);
// A vitest run that failed without a report (e.g. a crash in setup) still counts as a failure.
const failed =
  gateFailed + (report?.numFailedTests ?? 0) + (!vitestOk && (report?.numFailedTests ?? 0) === 0 ? 1 : 0);
if (skipped > 0) console.log(`\n注意：有 ${skipped} 个测试被跳过，跳过的测试视为失败。`);
const ok = failed === 0 && skipped === 0 && vitestOk;
console.log(
  `\n${ok ? "全部通过" : "有失败"}：检查步骤 ${gatePassed}/${gates.length}，测试 ${report?.numPassedTests ?? 0} 个通过`
);
console.log(`tests: ${passed} passed, ${failed + skipped} failed`);
process.exit(ok ? 0 : 1);
