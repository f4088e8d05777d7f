/**
 * The benchmark's server: Debian's nginx with the project's deploy configuration (deploy/nginx/, put
 * together and started by test/support/nginx.ts exactly as the nginx tests do: example-nginx.conf with
 * its paths in a temporary folder, fundwatch-http.conf as it is, fundwatch-location.conf with the site
 * mounted under /reports/fund/), so pages reach the browser as readers get them: the build's `.gz` files
 * sent by gzip_static, the same Cache-Control, ETag and security headers. Two changes, both in the
 * temporary copy only, never in deploy/:
 *
 * - an access log of our own format (`$bytes_sent`: what went on the wire, headers and compressed body),
 *   which is how the benchmark counts each page's bytes and requests;
 * - the arquero baseline's page (`/bench/arquero`) gets the site's CSP plus `'unsafe-eval'` (see
 *   {@link ARQUERO_CSP}); every other response has the deploy CSP, whose text must equal scripts/csp.ts's.
 *
 * In front of nginx, the link emulator (bench/link.ts) at 100 Mbit/s and 2 ms round trip, or nothing
 * with `--throttle devtools` (DevTools then throttles in the browser).
 */
import {mkdtemp, open, readFile, rm, stat, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {CSP} from "../scripts/csp.js";
import {startNginx} from "../test/support/nginx.js";
import {startLink} from "./link.js";

/** Where the site is mounted, as in deploy/nginx's example. */
export const BENCH_PREFIX = "/reports/fund/";

/** 100 Mbit/s each way and 2 ms latency, as DevTools' Network.emulateNetworkConditions takes them. */
export const THROTTLE = {
  offline: false,
  latency: 2,
  downloadThroughput: 100_000_000 / 8,
  uploadThroughput: 100_000_000 / 8
} as const;

/** How the network is throttled: by bench/link.ts (default) or by DevTools in the browser. */
export type ThrottleMethod = "link" | "devtools";

/**
 * The arquero baseline's page is served with the site's CSP plus `'unsafe-eval'`: arquero compiles every
 * expression (filter, derive, rollup) with `new Function`, which the site's `script-src` refuses, so
 * under the site's own policy the page draws nothing. A site built on arquero would have to allow it;
 * Fundwatch's pages and the JSON baseline keep the site's CSP.
 */
export const ARQUERO_CSP = CSP.replace("script-src 'self'", "script-src 'self' 'unsafe-eval'");

/** The URL paths (under the prefix) that get {@link ARQUERO_CSP}: the page, by its clean URL or its file. */
export const ARQUERO_PAGE = /^bench\/arquero(\.html)?$/;

export type Category = "code" | "duckdb" | "data";

/** What a path is: the DuckDB-WASM bundle (wasm, worker, its JS), data (loader outputs, JSON, Arrow) or code. */
export function categoryOf(path: string): Category {
  if (path.includes("/_node/@duckdb/")) return "duckdb";
  if (path.includes("/_file/") || /\.(json|arrow|duckdb|csv)$/.test(path)) return "data";
  return "code";
}

/** One line of the benchmark's access log. */
export interface LoggedRequest {
  /** The URL path under the prefix, decoded, without the query string: `_file/data/fundwatch.….duckdb`. */
  path: string;
  status: number;
  /** Bytes nginx sent: status line, headers and body as sent (compressed when gzip). */
  sent: number;
  /** Bytes of the body as sent. */
  body: number;
  gzip: boolean;
}

export interface Traffic {
  requests: number;
  /** Bytes on the wire (nginx's `$bytes_sent`: headers and body, compressed as sent), by kind. */
  sent: Record<Category, number>;
  /** The same responses' bodies uncompressed (the files' sizes; nothing for a 304), by kind. */
  files: Record<Category, number>;
  /** Responses sent gzip-compressed, and answered 304 Not Modified (the browser's copy was current). */
  gzip: number;
  notModified: number;
}

/** The access log format of the benchmark's nginx (parsed by {@link parseAccessLine}). */
export const LOG_FORMAT = `'$msec $status $bytes_sent $body_bytes_sent "$sent_http_content_encoding" "$request_uri"'`;

/** One access log line in {@link LOG_FORMAT}, or null when it is not one (or not under the prefix). */
export function parseAccessLine(line: string, prefix = BENCH_PREFIX): LoggedRequest | null {
  const m = /^[\d.]+ (\d{3}) (\d+) (\d+) "([^"]*)" "([^"]*)"$/.exec(line.trim());
  if (!m) return null;
  const uri = (m[5] ?? "").replace(/[?#].*$/, "");
  const bare = uri === prefix.slice(0, -1) ? "" : uri.startsWith(prefix) ? uri.slice(prefix.length) : null;
  if (bare === null) return null;
  let path = bare;
  try {
    path = decodeURIComponent(bare);
  } catch {
    // A malformed escape: keep it as sent.
  }
  return {path, status: Number(m[1]), sent: Number(m[2]), body: Number(m[3]), gzip: m[4] === "gzip"};
}

/** The file of the site a request path names, as deploy/nginx resolves it (clean URLs, `/` → index.html). */
async function fileOf(root: string, path: string): Promise<string | null> {
  const base = path === "" || path.endsWith("/") ? `${path}index.html` : path;
  for (const candidate of [base, `${base}.html`]) {
    const file = join(root, candidate);
    if ((await stat(file).catch(() => null))?.isFile()) return file;
  }
  return null;
}

export interface BenchServer {
  /** The site's address through the link (or nginx's own with `--throttle devtools`), ending in the prefix. */
  url: string;
  origin: string;
  /** The address of nginx itself (no link). */
  nginxUrl: string;
  /** The requests logged since the last call. */
  take: () => Promise<LoggedRequest[]>;
  /** Requests, bytes as sent and uncompressed, by kind. */
  traffic: (requests: readonly LoggedRequest[]) => Promise<Traffic>;
  /** nginx's error log lines at level error or worse. */
  errors: () => Promise<string[]>;
  close: () => Promise<void>;
}

/**
 * The deploy configuration `config` as test/support/nginx.ts assembled it in `dir` (the site the one
 * mount), with the benchmark's access log and the arquero page's CSP (see the file's comment): the
 * `edit` of its startNginx. Throws when deploy/nginx's CSP is not scripts/csp.ts's.
 */
export async function benchNginxConfig(config: string, dir: string): Promise<string> {
  const access = `access_log ${join(dir, "access.log")};`;
  if (!config.includes(access)) throw new Error(`nginx.conf 中找不到「${access}」`);
  const csp = (value: string): string => JSON.stringify(value);
  const edited = config.replace(
    access,
    [
      `log_format fundwatch_bench ${LOG_FORMAT};`,
      `    access_log ${join(dir, "access.log")} fundwatch_bench;`,
      `    map $uri $fundwatch_bench_csp {`,
      `        default ${csp(CSP)};`,
      `        "~^${BENCH_PREFIX.replaceAll(".", "\\.")}${ARQUERO_PAGE.source.slice(1)}" ${csp(ARQUERO_CSP)};`,
      `    }`
    ].join("\n")
  );
  const location = join(dir, "fundwatch-location-0.conf");
  const text = await readFile(location, "utf-8");
  const header = `add_header Content-Security-Policy ${csp(CSP)} always;`;
  if (!text.includes(header))
    throw new Error("deploy/nginx/fundwatch-location.conf 的 CSP 与 scripts/csp.ts 的 CSP 不一致");
  await writeFile(
    location,
    text.replaceAll(header, "add_header Content-Security-Policy $fundwatch_bench_csp always;")
  );
  return edited;
}

/** Starts nginx on `dist` (a built site with its `.gz` files) and the link in front of it. */
export async function startBenchServer(dist: string, throttle: ThrottleMethod): Promise<BenchServer> {
  const dir = await mkdtemp(join(tmpdir(), "fundwatch-bench-nginx-"));
  const site = dist.endsWith("/") ? dist : `${dist}/`;
  // startNginx makes the folder traversable (as root, nginx's workers run as www-data or nobody) and
  // stops nginx when this process ends, even on an error. It asks for the site, not `/`: that would be
  // a 404 and an error in the log that errors() reports.
  const nginx = await startNginx(dir, [{prefix: BENCH_PREFIX, site}], {
    edit: benchNginxConfig,
    probe: BENCH_PREFIX
  }).catch(async (error: unknown) => {
    await rm(dir, {recursive: true, force: true});
    throw error;
  });
  const errorLog = join(dir, "error.log");
  const nginxUrl = `${nginx.origin}${BENCH_PREFIX}`;
  // nginx answers; the site must too (as root, its workers read it as www-data).
  const status = await fetch(nginxUrl).then(
    (r) => r.arrayBuffer().then(() => r.status),
    () => null
  );
  if (status !== 200) {
    const log = await readFile(errorLog, "utf-8").catch(() => "");
    await nginx.stop();
    await rm(dir, {recursive: true, force: true});
    throw new Error(
      status === null
        ? `nginx 没有应答 ${nginxUrl}：${log}`.trim()
        : `nginx 对 ${nginxUrl} 答 ${status}（以 root 运行时 nginx 的工作进程是 www-data：${site} 及其上级目录要允许其他用户读取和进入）：${log.trim().split("\n").slice(-3).join(" | ")}`
    );
  }
  const link =
    throttle === "link"
      ? await startLink(
          {host: "127.0.0.1", port: nginx.port},
          {bytesPerSecond: THROTTLE.downloadThroughput, rttMs: THROTTLE.latency}
        )
      : null;
  const url = link ? `http://${link.host}:${link.port}${BENCH_PREFIX}` : nginxUrl;

  const accessLog = join(dir, "access.log");
  let offset = (await stat(accessLog).catch(() => null))?.size ?? 0;
  let partial = "";
  const take = async (): Promise<LoggedRequest[]> => {
    const handle = await open(accessLog, "r").catch(() => null);
    if (!handle) return [];
    try {
      const {size} = await handle.stat();
      if (size <= offset) return [];
      const buffer = Buffer.alloc(size - offset);
      await handle.read(buffer, 0, buffer.length, offset);
      offset = size;
      const text = partial + buffer.toString("utf-8");
      const lines = text.split("\n");
      partial = lines.pop() ?? "";
      return lines.map((l) => parseAccessLine(l)).filter((r): r is LoggedRequest => r !== null);
    } finally {
      await handle.close();
    }
  };
  const sizes = new Map<string, number>();
  const fileSize = async (path: string): Promise<number> => {
    let size = sizes.get(path);
    if (size === undefined) {
      const file = await fileOf(site, path);
      size = file ? (await stat(file)).size : 0;
      sizes.set(path, size);
    }
    return size;
  };
  return {
    url,
    origin: new URL(url).origin,
    nginxUrl,
    take,
    traffic: async (requests) => {
      const zero = (): Record<Category, number> => ({code: 0, duckdb: 0, data: 0});
      const t: Traffic = {requests: requests.length, sent: zero(), files: zero(), gzip: 0, notModified: 0};
      for (const r of requests) {
        const c = categoryOf(`/${r.path}`);
        t.sent[c] += r.sent;
        if (r.status === 304) t.notModified += 1;
        if (r.gzip) t.gzip += 1;
        t.files[c] += r.status === 304 ? 0 : r.gzip ? await fileSize(r.path) : r.body;
      }
      return t;
    },
    errors: async () =>
      (await readFile(errorLog, "utf-8").catch(() => ""))
        .split("\n")
        .filter((l) => /\[(error|crit|alert|emerg)\]/.test(l)),
    close: async () => {
      link?.server.close();
      await nginx.stop();
      await rm(dir, {recursive: true, force: true});
    }
  };
}
