/**
 * Load check of a release swap: a real nginx (127.0.0.1, a free port, everything in a temporary
 * folder) serves `<work>/srv/fundwatch/current/site/` under `/reports/fund/`, with the project's
 * deploy/nginx/*.conf when present (else a minimal config of our own); release A is installed with
 * deploy/install.sh, wrk cycles through the URL of every file and page of A at fixed concurrency (every
 * other pass with `Accept-Encoding: gzip`), and in the middle release B (the same site with a changed
 * data file, so a new hashed name, and a changed overview page) is installed with install.sh.
 *
 * Counted by wrk's Lua hooks, not read from its text alone: every response's status, whether it was
 * gzip-encoded, and its Last-Modified (the archive stamps every file with its build time, so A's and
 * B's files tell themselves apart). nginx's access log says which release directory served each
 * request ($realpath_root) and when. After the swap the changed page must be B's and A's old data file
 * (carried over by install.sh) must still be served.
 *
 *   tsx bench/load.ts [--site dist] [--duration 30] [--threads 2] [--connections 16] [--timeout 2]
 *
 * `runLoad` returns the figures; `formatLoadTable` renders them as a markdown table.
 */
import {spawn, spawnSync, type ChildProcess} from "node:child_process";
import {createHash} from "node:crypto";
import {chmod, cp, mkdir, mkdtemp, readFile, rm, stat, writeFile} from "node:fs/promises";
import {createServer} from "node:net";
import {tmpdir} from "node:os";
import {join, resolve} from "node:path";
import {fileURLToPath} from "node:url";
import {gzipSync} from "node:zlib";
import {createRelease, listFiles, readBuildInfo, type Manifest} from "../scripts/release.js";

const PROJECT = fileURLToPath(new URL("../", import.meta.url));
const PREFIX = "/reports/fund/";
const SERVER_ROOT = "/srv/fundwatch/";

export interface LoadOptions {
  /** A built site (dist/) to make releases A and B from. */
  site: string;
  /** Seconds of load (the test: 10; the benchmark: 30). */
  durationSeconds: number;
  threads: number;
  connections: number;
  /** When release B is installed, in seconds after the load starts (default 40 % of the duration). */
  swapAtSeconds?: number;
  /** wrk's socket/request timeout in seconds (default wrk's 2). */
  timeoutSeconds?: number;
  /** nginx worker processes (default 1). */
  nginxWorkers?: number;
  /** Folder for everything (default a new temporary folder, removed afterwards). */
  workDir?: string;
  /** deploy/nginx (default the project's): used when it holds fundwatch-http.conf and fundwatch-location.conf. */
  nginxConfDir?: string;
  nginxBinary?: string;
  wrkBinary?: string;
  /** Files (relative to the site) to leave out of B: a negative control, their URLs fail after the swap. */
  removeFromB?: string[];
  log?: (message: string) => void;
}

export interface LoadResult {
  site: string;
  /** "deploy/nginx" (the project's include files) or "minimal" (this file's own). */
  nginxConfig: "deploy/nginx" | "minimal";
  releases: {a: string; b: string; archiveBytes: {a: number; b: number}};
  /** URLs cycled through (files and clean page URLs of A), and the bytes of A's site. */
  urls: number;
  siteFiles: number;
  siteBytes: number;
  config: {
    durationSeconds: number;
    threads: number;
    connections: number;
    swapAtSeconds: number;
    timeoutSeconds: number;
  };
  wrk: {
    requests: number;
    durationSeconds: number;
    requestsPerSecond: number;
    bytesRead: number;
    latencyMs: {p50: number; p75: number; p90: number; p99: number; max: number};
    socketErrors: {connect: number; read: number; write: number; timeout: number};
    /** wrk's "Non-2xx or 3xx responses" line (0 when absent). */
    non2xxText: number;
  };
  lua: {
    responses: number;
    non2xx: number;
    /** Responses by status class ("2xx": n, …). */
    statuses: Record<string, number>;
    gzip: number;
    /**
     * Responses by Last-Modified: A's build time, B's, other (none: deploy/nginx rewrites 404.html with
     * sub_filter, which drops the header). A's count includes A's old data file served from B after the swap.
     */
    lastModified: {a: number; b: number; other: number};
  };
  swap: {
    startedSeconds: number;
    finishedSeconds: number;
    installMs: number;
    installOutput: string;
    currentAtEnd: string;
    /** From nginx's access log ($realpath_root); null when the log has no lines of ours. */
    servedFrom: {aBeforeSwap: number; aAfterSwap: number; bBeforeSwap: number; bAfterSwap: number} | null;
    /** GET of the changed page after the swap returned B's bytes. */
    changedPageIsB: boolean;
    /** Status of A's old data file (only in A) after the swap: 200 when install.sh carried it over. */
    oldDataFileStatus: number;
  };
  nginxErrors: string[];
  /** Everything that makes the run a failure; empty when the swap was clean. */
  problems: string[];
}

const sha256 = (data: string | Uint8Array): string => createHash("sha256").update(data).digest("hex");

/**
 * Gives a site without build.json (a dist/ built before the build wrote one) a stand-in, so that it can
 * be released; returns whether it wrote one.
 */
export async function ensureBuildJson(site: string): Promise<boolean> {
  if (await stat(join(site, "build.json")).catch(() => null)) return false;
  const pkg = JSON.parse(await readFile(join(PROJECT, "package.json"), "utf-8")) as {
    dependencies: Record<string, string>;
  };
  const info = {
    format: 1,
    built_at: new Date(Math.floor(Date.now() / 1000) * 1000).toISOString(),
    commit: null,
    commit_dirty: false,
    versions: {
      framework: pkg.dependencies["@observablehq/framework"] ?? "?",
      duckdb_wasm: pkg.dependencies["@duckdb/duckdb-wasm"] ?? "?",
      node: process.version
    },
    data: {
      as_of: "2024-09-27",
      source: "负载测试（bench/load.ts 补写的 build.json）",
      generated_at: "",
      inputs: []
    },
    page_check: {status: "skipped", pages: 0},
    loaders: {rerun: true, reasons: []}
  };
  await writeFile(join(site, "build.json"), JSON.stringify(info, null, 2) + "\n");
  return true;
}

/**
 * Turns a copy of site A (in `dir`) into release B: the data file (the largest `*.<hash>.duckdb`
 * under _file/) gets new bytes and a new hashed name, every page refers to the new name, the overview
 * page (index.html) changes, build.json gets a build time an hour later and the new data sha256; the
 * `.gz` siblings of changed files (build.json's too) are written again. Returns A's and B's data file paths.
 */
export async function makeReleaseB(
  dir: string
): Promise<{oldData: string; newData: string; changedPage: string}> {
  const files = await listFiles(dir);
  const candidates = files.filter((f) => f.startsWith("_file/") && /\.[0-9a-f]{8}\.duckdb$/.test(f));
  let oldData: string | undefined;
  let largest = -1;
  for (const f of candidates) {
    const size = (await stat(join(dir, f))).size;
    if (size > largest) [oldData, largest] = [f, size];
  }
  if (oldData === undefined) throw new Error(`${dir} 中没有 _file/…/*.<哈希>.duckdb 数据文件`);
  const data = Buffer.concat([
    await readFile(join(dir, oldData)),
    Buffer.from("\nfundwatch-load: release B\n")
  ]);
  const dataSha = sha256(data);
  const newData = oldData.replace(/\.[0-9a-f]{8}\.duckdb$/, `.${dataSha.slice(0, 8)}.duckdb`);
  await writeFile(join(dir, newData), data);
  await rm(join(dir, oldData));
  await rm(join(dir, `${oldData}.gz`), {force: true});
  const oldName = oldData.split("/").at(-1) ?? oldData;
  const newName = newData.split("/").at(-1) ?? newData;
  const changed: string[] = [];
  // The pages and their scripts (the build moves each page's script into a file beside it).
  for (const f of files.filter((p) => p.endsWith(".html") || (p.endsWith(".js") && !p.startsWith("_")))) {
    let text = await readFile(join(dir, f), "utf-8");
    const before = text;
    text = text.replaceAll(oldName, newName);
    if (f === "index.html") text = text.replace(/<\/body>/, "<!-- fundwatch-load: release B -->\n</body>");
    if (text !== before) {
      await writeFile(join(dir, f), text);
      changed.push(f);
    }
  }
  if (!changed.includes("index.html")) throw new Error(`${dir}/index.html 没有 </body>，无法改动`);
  for (const f of changed)
    if (await stat(join(dir, `${f}.gz`)).catch(() => null))
      await writeFile(join(dir, `${f}.gz`), gzipSync(await readFile(join(dir, f)), {level: 9}));
  const build = await readBuildInfo(join(dir, "build.json"));
  build.built_at = new Date(Date.parse(build.built_at) + 3600_000).toISOString();
  build.data.inputs = build.data.inputs.map((input, i) => (i === 0 ? {...input, sha256: dataSha} : input));
  await writeFile(join(dir, "build.json"), JSON.stringify(build, null, 2) + "\n");
  if (await stat(join(dir, "build.json.gz")).catch(() => null))
    await writeFile(
      join(dir, "build.json.gz"),
      gzipSync(await readFile(join(dir, "build.json")), {level: 9})
    );
  return {oldData, newData, changedPage: "index.html"};
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolvePort(address.port) : reject(new Error("无端口"))
      );
    });
  });
}

/** The nginx.conf of the run; uses deploy/nginx's include files when both exist. */
async function writeNginxConf(options: {
  work: string;
  port: number;
  workers: number;
  confDir: string;
}): Promise<{path: string; kind: LoadResult["nginxConfig"]}> {
  const {work, port, workers, confDir} = options;
  const dir = join(work, "nginx");
  await mkdir(join(dir, "temp"), {recursive: true});
  const httpConf = await readFile(join(confDir, "fundwatch-http.conf"), "utf-8").catch(() => null);
  const locationConf = await readFile(join(confDir, "fundwatch-location.conf"), "utf-8").catch(() => null);
  const serverRoot = `${join(work, "srv", "fundwatch")}/`;
  let kind: LoadResult["nginxConfig"];
  let httpPart: string;
  let serverPart: string;
  if (httpConf !== null && locationConf !== null) {
    kind = "deploy/nginx";
    await writeFile(join(dir, "fundwatch-http.conf"), httpConf.replaceAll(SERVER_ROOT, serverRoot));
    await writeFile(join(dir, "fundwatch-location.conf"), locationConf.replaceAll(SERVER_ROOT, serverRoot));
    httpPart = `include ${join(dir, "fundwatch-http.conf")};`;
    serverPart = `include ${join(dir, "fundwatch-location.conf")};`;
  } else {
    kind = "minimal";
    httpPart = "sendfile on;\n    keepalive_timeout 75s;";
    serverPart = [
      `location ${PREFIX} {`,
      `      alias ${serverRoot}current/site/;`,
      "      gzip_static on;",
      "      try_files $uri $uri.html $uri/index.html =404;",
      "    }"
    ].join("\n");
  }
  const temp = join(dir, "temp");
  const conf = `# Written by bench/load.ts (${kind}).
worker_processes ${workers};
pid ${join(dir, "nginx.pid")};
error_log ${join(dir, "error.log")} warn;
events { worker_connections 1024; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    client_body_temp_path ${temp}/body;
    proxy_temp_path ${temp}/proxy;
    fastcgi_temp_path ${temp}/fastcgi;
    uwsgi_temp_path ${temp}/uwsgi;
    scgi_temp_path ${temp}/scgi;
    log_format fundwatch_load '$msec $status "$realpath_root" "$request_uri"';
    access_log ${join(dir, "access.log")} fundwatch_load buffer=256k;
    ${httpPart}
    server {
    listen 127.0.0.1:${port};
    server_name localhost;
    ${serverPart}
    }
}
`;
  await writeFile(join(dir, "nginx.conf"), conf);
  return {path: join(dir, "nginx.conf"), kind};
}

/** The wrk Lua script: cycles through `paths`; every other pass asks for gzip; counts responses. */
export function wrkScript(paths: string[], lastModified: {a: string; b: string}): string {
  const list = paths.map((p) => `  ${JSON.stringify(p)},`).join("\n");
  return `-- Written by bench/load.ts.
local paths = {
${list}
}
local threads = {}
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("id", next_id)
  table.insert(threads, thread)
end

function init(args)
  n = (id - 1) * 7919
  responses = 0
  non2xx = 0
  gzip = 0
  lm_a = 0
  lm_b = 0
  lm_other = 0
  s1xx = 0
  s2xx = 0
  s3xx = 0
  s4xx = 0
  s5xx = 0
end

request = function()
  n = n + 1
  local path = paths[(n % #paths) + 1]
  if math.floor(n / #paths) % 2 == 1 then
    return wrk.format("GET", path, {["Accept-Encoding"] = "gzip"})
  end
  return wrk.format("GET", path)
end

response = function(status, headers, body)
  responses = responses + 1
  if status < 200 then s1xx = s1xx + 1
  elseif status < 300 then s2xx = s2xx + 1
  elseif status < 400 then s3xx = s3xx + 1
  elseif status < 500 then s4xx = s4xx + 1
  else s5xx = s5xx + 1 end
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
  if headers["Content-Encoding"] == "gzip" then gzip = gzip + 1 end
  local lm = headers["Last-Modified"]
  if lm == ${JSON.stringify(lastModified.a)} then lm_a = lm_a + 1
  elseif lm == ${JSON.stringify(lastModified.b)} then lm_b = lm_b + 1
  else lm_other = lm_other + 1 end
end

function done(summary, latency, requests)
  for _, t in ipairs(threads) do
    io.write(string.format("FUNDWATCH_THREAD responses=%d non2xx=%d gzip=%d lm_a=%d lm_b=%d lm_other=%d 1xx=%d 2xx=%d 3xx=%d 4xx=%d 5xx=%d\\n",
      t:get("responses"), t:get("non2xx"), t:get("gzip"), t:get("lm_a"), t:get("lm_b"), t:get("lm_other"),
      t:get("s1xx"), t:get("s2xx"), t:get("s3xx"), t:get("s4xx"), t:get("s5xx")))
  end
  io.write(string.format("FUNDWATCH_SUMMARY requests=%d bytes=%d duration_us=%d connect=%d read=%d write=%d status=%d timeout=%d p50_us=%d p99_us=%d\\n",
    summary.requests, summary.bytes, summary.duration, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.status, summary.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
`;
}

const UNIT_MS: Record<string, number> = {ms: 1, s: 1000, m: 60_000, h: 3_600_000};
const UNIT_BYTES: Record<string, number> = {B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4};

/** Parses wrk's text output (with `--latency`). */
export function parseWrkOutput(text: string): LoadResult["wrk"] {
  const ms = (value: string | undefined, unit: string | undefined): number =>
    value === undefined || unit === undefined
      ? NaN
      : unit === "us"
        ? Number(value) / 1000
        : Number(value) * (UNIT_MS[unit] ?? NaN);
  const pct = (p: number): number => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m|h)\\s*$`, "m").exec(text);
    return ms(m?.[1], m?.[2]);
  };
  const total = /^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h), ([\d.]+)(B|KB|MB|GB|TB) read/m.exec(text);
  const sockets = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const max = /^\s+Latency\s+\S+\s+\S+\s+([\d.]+)(us|ms|s|m|h)/m.exec(text);
  return {
    requests: Number(total?.[1] ?? NaN),
    durationSeconds: ms(total?.[2], total?.[3]) / 1000,
    requestsPerSecond: Number(/^Requests\/sec:\s+([\d.]+)/m.exec(text)?.[1] ?? NaN),
    bytesRead: Number(total?.[4] ?? NaN) * (UNIT_BYTES[total?.[5] ?? ""] ?? NaN),
    latencyMs: {p50: pct(50), p75: pct(75), p90: pct(90), p99: pct(99), max: ms(max?.[1], max?.[2])},
    socketErrors: {
      connect: Number(sockets?.[1] ?? 0),
      read: Number(sockets?.[2] ?? 0),
      write: Number(sockets?.[3] ?? 0),
      timeout: Number(sockets?.[4] ?? 0)
    },
    non2xxText: Number(/Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? 0)
  };
}

/** Sums the FUNDWATCH_THREAD lines the Lua `done()` hook prints. */
export function parseLuaCounts(text: string): LoadResult["lua"] {
  const lua: LoadResult["lua"] = {
    responses: 0,
    non2xx: 0,
    statuses: {},
    gzip: 0,
    lastModified: {a: 0, b: 0, other: 0}
  };
  for (const line of text.split("\n").filter((l) => l.startsWith("FUNDWATCH_THREAD "))) {
    const field = (name: string): string => new RegExp(`(?:^| )${name}=(\\S*)`).exec(line)?.[1] ?? "";
    lua.responses += Number(field("responses"));
    lua.non2xx += Number(field("non2xx"));
    lua.gzip += Number(field("gzip"));
    lua.lastModified.a += Number(field("lm_a"));
    lua.lastModified.b += Number(field("lm_b"));
    lua.lastModified.other += Number(field("lm_other"));
    for (const klass of ["1xx", "2xx", "3xx", "4xx", "5xx"]) {
      const count = Number(field(klass));
      if (count > 0) lua.statuses[klass] = (lua.statuses[klass] ?? 0) + count;
    }
  }
  return lua;
}

/** The URL paths of every file of a release (not the `.gz` siblings) and of every page's clean URL. */
export function siteUrls(manifest: Manifest, prefix = PREFIX): string[] {
  const names = new Set(manifest.files.map((f) => f.path));
  const encode = (path: string): string => path.split("/").map(encodeURIComponent).join("/");
  const urls: string[] = [];
  for (const {path} of manifest.files) {
    if (path.endsWith(".gz") && names.has(path.slice(0, -3))) continue;
    urls.push(prefix + encode(path));
    if (path.endsWith(".html")) {
      const clean =
        path === "index.html" ? "" : path.endsWith("/index.html") ? path.slice(0, -10) : path.slice(0, -5);
      urls.push(prefix + encode(clean));
    }
  }
  return urls;
}

const httpDate = (iso: string): string => new Date(iso).toUTCString();

function runInstall(
  archive: string,
  base: string
): Promise<{code: number | null; output: string; ms: number}> {
  const started = Date.now();
  return new Promise((resolveRun) => {
    const child = spawn("bash", [join(PROJECT, "deploy", "install.sh"), archive, base], {
      stdio: ["ignore", "pipe", "pipe"]
    });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr.on("data", (c: Buffer) => (output += c.toString()));
    child.on("error", (error) =>
      resolveRun({code: null, output: output + error.message, ms: Date.now() - started})
    );
    child.on("close", (code) => resolveRun({code, output, ms: Date.now() - started}));
  });
}

async function waitForPort(url: string, nginx: ChildProcess, errorLog: string): Promise<void> {
  for (let i = 0; i < 200; ++i) {
    if (nginx.exitCode !== null) {
      const log = await readFile(errorLog, "utf-8").catch(() => "");
      throw new Error(
        `nginx 启动失败（退出码 ${nginx.exitCode}）：${log.trim().split("\n").slice(-5).join(" | ")}`
      );
    }
    try {
      await fetch(url);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error("nginx 10 秒内没有开始监听");
}

function stopProcess(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolveStop) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolveStop();
    });
    child.kill(signal);
  });
}

/** Runs the load check; see the file's comment. Throws only when the set-up fails (no nginx, no wrk). */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const log = options.log ?? ((message: string) => console.error(message));
  const nginxBinary = options.nginxBinary ?? "/usr/sbin/nginx";
  const wrkBinary = options.wrkBinary ?? "wrk";
  const duration = options.durationSeconds;
  const swapAt = options.swapAtSeconds ?? Math.max(1, Math.round(duration * 0.4));
  const timeout = options.timeoutSeconds ?? 2;
  if (spawnSync(wrkBinary, ["--version"]).error)
    throw new Error(`找不到 wrk（${wrkBinary}）：apt-get install wrk`);
  if (spawnSync(nginxBinary, ["-v"]).error)
    throw new Error(`找不到 nginx（${nginxBinary}）：apt-get install nginx-light`);

  const ownWork = options.workDir === undefined;
  const work = options.workDir ?? (await mkdtemp(join(tmpdir(), "fundwatch-load-")));
  // nginx's workers run as an unprivileged user when started as root: the tree must be readable.
  await chmod(work, 0o755);
  let nginx: ChildProcess | undefined;
  try {
    // 1. Releases A and B.
    const siteA = join(work, "site-a");
    const siteB = join(work, "site-b");
    await cp(resolve(options.site), siteA, {recursive: true});
    if (await ensureBuildJson(siteA)) log("[load] 站点没有 build.json，已补写一个（仅用于负载测试）。");
    await cp(siteA, siteB, {recursive: true});
    const {oldData} = await makeReleaseB(siteB);
    for (const path of options.removeFromB ?? []) await rm(join(siteB, path));
    const out = join(work, "releases-out");
    const quiet = (): void => {};
    log("[load] 正在打包发布包 A 和 B …");
    // What is measured is serving and swapping, not the pages: a site built with --no-check is taken too.
    const a = await createRelease({dist: siteA, out, log: quiet, allowUnchecked: true});
    const b = await createRelease({dist: siteB, out, log: quiet, allowUnchecked: true});
    await rm(siteA, {recursive: true, force: true});
    await rm(siteB, {recursive: true, force: true});

    // 2. Install A, start nginx.
    const base = join(work, "srv", "fundwatch");
    const installA = await runInstall(a.archive, base);
    if (installA.code !== 0) throw new Error(`安装发布包 A 失败：${installA.output}`);
    const port = await freePort();
    const conf = await writeNginxConf({
      work,
      port,
      workers: options.nginxWorkers ?? 1,
      confDir: options.nginxConfDir ?? join(PROJECT, "deploy", "nginx")
    });
    const errorLog = join(work, "nginx", "error.log");
    const test = spawnSync(nginxBinary, ["-t", "-p", join(work, "nginx"), "-c", conf.path, "-e", errorLog], {
      encoding: "utf-8"
    });
    if (test.status !== 0) throw new Error(`nginx 配置检查失败：${test.stderr}`);
    nginx = spawn(
      nginxBinary,
      ["-p", join(work, "nginx"), "-c", conf.path, "-e", errorLog, "-g", "daemon off;"],
      {
        stdio: "ignore"
      }
    );
    const origin = `http://127.0.0.1:${port}`;
    await waitForPort(`${origin}${PREFIX}`, nginx, errorLog);
    log(`[load] nginx（${conf.kind}）在 ${origin}${PREFIX}，发布包 A 已安装：${a.id}`);

    // 3. wrk, and B's install in the middle.
    const urls = siteUrls(a.manifest);
    const script = join(work, "load.lua");
    await writeFile(
      script,
      wrkScript(urls, {a: httpDate(a.manifest.built_at), b: httpDate(b.manifest.built_at)})
    );
    const wrkArgs = [
      `-t${options.threads}`,
      `-c${options.connections}`,
      `-d${duration}s`,
      `--timeout`,
      `${timeout}s`,
      "--latency",
      "-s",
      script,
      origin
    ];
    const started = Date.now();
    const wrk = spawn(wrkBinary, wrkArgs, {stdio: ["ignore", "pipe", "pipe"]});
    let wrkOut = "";
    wrk.stdout.on("data", (c: Buffer) => (wrkOut += c.toString()));
    wrk.stderr.on("data", (c: Buffer) => (wrkOut += c.toString()));
    const wrkDone = new Promise<number | null>((r) => wrk.on("close", (code) => r(code)));
    await new Promise((r) => setTimeout(r, swapAt * 1000));
    const swapStarted = Date.now();
    log(`[load] 第 ${((swapStarted - started) / 1000).toFixed(1)} 秒：安装发布包 B（${b.id}）…`);
    const installB = await runInstall(b.archive, base);
    const swapFinished = Date.now();
    const wrkCode = await wrkDone;
    const finished = Date.now();
    if (wrkCode !== 0) throw new Error(`wrk 失败（退出码 ${wrkCode}）：${wrkOut}`);

    // 4. After the swap: B's page, A's carried data file.
    const changed = await fetch(`${origin}${PREFIX}index.html`);
    const changedBody = Buffer.from(await changed.arrayBuffer());
    const bIndex = b.manifest.files.find((f) => f.path === "index.html");
    const changedPageIsB = changed.status === 200 && sha256(changedBody) === bIndex?.sha256;
    const oldDataResponse = await fetch(`${origin}${PREFIX}${oldData}`);
    await oldDataResponse.arrayBuffer();
    const currentAtEnd = (
      spawnSync("readlink", [join(base, "current")], {encoding: "utf-8"}).stdout ?? ""
    ).trim();

    await stopProcess(nginx, "SIGQUIT");

    // 5. The figures.
    const wrkFigures = parseWrkOutput(wrkOut);
    const lua = parseLuaCounts(wrkOut);
    const access = await readFile(join(work, "nginx", "access.log"), "utf-8").catch(() => "");
    const releasesDir = join(base, "releases");
    let servedFrom: LoadResult["swap"]["servedFrom"] = null;
    const lines = access.split("\n").filter(Boolean);
    const failedRequests = lines.filter((l) => !/^[\d.]+ 2\d\d /.test(l));
    if (lines.length > 0) {
      servedFrom = {aBeforeSwap: 0, aAfterSwap: 0, bBeforeSwap: 0, bAfterSwap: 0};
      for (const line of lines) {
        const m = /^([\d.]+) (\d+) "([^"]*)"/.exec(line);
        if (!m) continue;
        const at = Number(m[1]) * 1000;
        const root = m[3] ?? "";
        const release = root.startsWith(join(releasesDir, a.id))
          ? "a"
          : root.startsWith(join(releasesDir, b.id))
            ? "b"
            : null;
        if (release === null) continue;
        const after = at >= swapFinished;
        if (release === "a") servedFrom[after ? "aAfterSwap" : "aBeforeSwap"] += 1;
        else servedFrom[at >= swapStarted ? "bAfterSwap" : "bBeforeSwap"] += 1;
      }
    }
    const errorText = await readFile(errorLog, "utf-8").catch(() => "");
    const nginxErrors = errorText.split("\n").filter((l) => /\[(error|crit|alert|emerg)\]/.test(l));

    const result: LoadResult = {
      site: resolve(options.site),
      nginxConfig: conf.kind,
      releases: {a: a.id, b: b.id, archiveBytes: {a: a.bytes, b: b.bytes}},
      urls: urls.length,
      siteFiles: a.manifest.totals.files,
      siteBytes: a.manifest.totals.bytes,
      config: {
        durationSeconds: duration,
        threads: options.threads,
        connections: options.connections,
        swapAtSeconds: swapAt,
        timeoutSeconds: timeout
      },
      wrk: wrkFigures,
      lua,
      swap: {
        startedSeconds: (swapStarted - started) / 1000,
        finishedSeconds: (swapFinished - started) / 1000,
        installMs: installB.ms,
        installOutput: installB.output,
        currentAtEnd,
        servedFrom,
        changedPageIsB,
        oldDataFileStatus: oldDataResponse.status
      },
      nginxErrors,
      problems: []
    };
    const p = result.problems;
    const s = wrkFigures.socketErrors;
    if (installB.code !== 0) p.push(`安装发布包 B 失败（退出码 ${installB.code}）：${installB.output}`);
    if (swapFinished >= finished) p.push("发布包 B 在负载结束后才装好：切换不在负载期间");
    if (s.connect + s.read + s.write + s.timeout > 0)
      p.push(`socket 错误：connect ${s.connect}，read ${s.read}，write ${s.write}，timeout ${s.timeout}`);
    if (lua.non2xx > 0 || wrkFigures.non2xxText > 0)
      p.push(
        `非 2xx 响应 ${lua.non2xx} 个（${JSON.stringify(lua.statuses)}；wrk 文本 ${wrkFigures.non2xxText}）；访问日志中：${failedRequests.slice(0, 10).join(" | ")}`
      );
    if (lua.responses === 0) p.push("Lua 没有数到任何响应");
    if (currentAtEnd !== `releases/${b.id}`)
      p.push(`结束时 current 指向 ${currentAtEnd}，应为 releases/${b.id}`);
    if (lua.lastModified.a === 0) p.push("没有由发布包 A 提供的响应（切换前）");
    if (lua.lastModified.b === 0) p.push("没有由发布包 B 提供的响应（切换后）");
    if (servedFrom && (servedFrom.aBeforeSwap === 0 || servedFrom.bAfterSwap === 0))
      p.push(
        `访问日志：切换前由 A 提供 ${servedFrom.aBeforeSwap} 个，切换后由 B 提供 ${servedFrom.bAfterSwap} 个`
      );
    if (servedFrom && servedFrom.bBeforeSwap > 0)
      p.push(`访问日志：切换开始前就有 ${servedFrom.bBeforeSwap} 个请求由 B 提供`);
    if (!changedPageIsB) p.push(`切换后 ${PREFIX}index.html 不是发布包 B 的内容（状态 ${changed.status}）`);
    if (oldDataResponse.status !== 200)
      p.push(`切换后旧数据文件 ${oldData} 返回 ${oldDataResponse.status}（应由 install.sh 带入）`);
    if (nginxErrors.length)
      p.push(`nginx 错误日志有 ${nginxErrors.length} 行错误：${nginxErrors.slice(0, 3).join(" | ")}`);
    return result;
  } finally {
    if (nginx) await stopProcess(nginx, "SIGQUIT");
    if (ownWork) await rm(work, {recursive: true, force: true});
  }
}

const fmt = (n: number, digits = 0): string =>
  Number.isFinite(n)
    ? n.toLocaleString("en-US", {maximumFractionDigits: digits, minimumFractionDigits: digits})
    : "—";
const msText = (n: number): string =>
  Number.isFinite(n) ? (n < 10 ? `${n.toFixed(2)} ms` : `${fmt(n, 0)} ms`) : "—";

/** The figures of one or more runs as a markdown table (bilingual headers). */
export function formatLoadTable(results: LoadResult | LoadResult[]): string {
  const rows = Array.isArray(results) ? results : [results];
  const header = [
    "站点 site",
    "nginx 配置 config",
    "负载 load",
    "请求 requests",
    "请求/秒 req/s",
    "延迟 p50 / p99 latency",
    "socket 错误 errors (c/r/w/t)",
    "非 2xx non-2xx",
    "gzip 响应 gzip",
    "切换 swap (s) / 安装 install",
    "A 提供 / B 提供 served by A / B"
  ];
  const body = rows.map((r) => {
    const s = r.wrk.socketErrors;
    return [
      `${r.siteFiles} files, ${(r.siteBytes / 1e6).toFixed(1)} MB`,
      r.nginxConfig,
      `${r.config.threads} threads × ${r.config.connections} conns, ${r.config.durationSeconds} s`,
      fmt(r.lua.responses),
      fmt(r.wrk.requestsPerSecond),
      `${msText(r.wrk.latencyMs.p50)} / ${msText(r.wrk.latencyMs.p99)}`,
      `${s.connect}/${s.read}/${s.write}/${s.timeout}`,
      String(r.lua.non2xx),
      fmt(r.lua.gzip),
      `${r.swap.startedSeconds.toFixed(1)}–${r.swap.finishedSeconds.toFixed(1)} s / ${fmt(r.swap.installMs)} ms`,
      `${fmt(r.lua.lastModified.a)} / ${fmt(r.lua.lastModified.b)}`
    ];
  });
  return [
    `| ${header.join(" | ")} |`,
    `|${header.map(() => "---").join("|")}|`,
    ...body.map((r) => `| ${r.join(" | ")} |`)
  ].join("\n");
}

function parseArgs(argv: string[]): LoadOptions {
  const options: LoadOptions = {
    site: join(PROJECT, "dist"),
    durationSeconds: 30,
    threads: 2,
    connections: 16
  };
  for (let i = 0; i < argv.length; ++i) {
    const arg = argv[i];
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`缺少取值：${arg}`);
    if (arg === "--site") options.site = value;
    else if (arg === "--duration") options.durationSeconds = Number(value);
    else if (arg === "--threads") options.threads = Number(value);
    else if (arg === "--connections") options.connections = Number(value);
    else if (arg === "--swap-at") options.swapAtSeconds = Number(value);
    else if (arg === "--timeout") options.timeoutSeconds = Number(value);
    else throw new Error(`不认识的参数：${arg}`);
    ++i;
  }
  return options;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  let options: LoadOptions;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (error) {
    console.error(
      `${(error as Error).message}\n用法：tsx bench/load.ts [--site dist] [--duration 30] [--threads 2] [--connections 16] [--swap-at 12] [--timeout 2]`
    );
    process.exit(2);
  }
  const result = await runLoad(options);
  console.log(formatLoadTable(result));
  console.log(`\n${JSON.stringify({...result, swap: {...result.swap, installOutput: undefined}}, null, 2)}`);
  if (result.problems.length) {
    console.error(`问题：\n  ${result.problems.join("\n  ")}`);
    process.exit(1);
  }
}
