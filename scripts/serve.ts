/**
 * A static server for dist/ on 127.0.0.1: clean URLs (/about → about.html), the right MIME type for
 * .wasm, range requests, no caching of HTML (revalidated by ETag) and long-lived caching of Framework's
 * hashed assets and version-pinned node imports. Every response carries the site's
 * Content-Security-Policy (scripts/csp.ts), as nginx sends it in production (deploy/nginx/).
 * `npm start` uses it after the build; the browser tests use it too.
 */
import {createReadStream} from "node:fs";
import {stat} from "node:fs/promises";
import {createServer, type Server} from "node:http";
import type {AddressInfo} from "node:net";
import {extname, join, normalize, resolve, sep} from "node:path";
import {fileURLToPath} from "node:url";
import {SECURITY_HEADERS} from "./csp.js";

const MIME: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".csv": "text/csv; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".wasm": "application/wasm",
  ".duckdb": "application/octet-stream",
  ".arrow": "application/vnd.apache.arrow.file",
  ".pdf": "application/pdf",
  ".txt": "text/plain; charset=utf-8"
};

/**
 * Whether a file's address changes whenever its content does, so browsers may keep it for a year:
 * Framework's content-hashed assets (`name.0123abcd.js`), and every file under a version-pinned
 * node import folder (`_node/@duckdb/duckdb-wasm@1.32.0/dist/duckdb-eh.wasm`), whose name Framework
 * does not hash. Without the second rule the 34 MB DuckDB-WASM module was downloaded again on every
 * page view (measured by `npm run bench`).
 */
export function isImmutable(path: string): boolean {
  const posix = path.split(sep).join("/");
  if (/\/_(node|npm|import|file|observablehq)\//.test(posix) && /\.[0-9a-f]{8}\./.test(posix)) return true;
  return /\/_node\/(@[^/]+\/)?[^/@]+@\d+\.\d+\.\d+[^/]*\//.test(posix);
}

async function findFile(root: string, pathname: string): Promise<string | undefined> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  if (decoded.includes("\0")) return undefined;
  const base = resolve(root, "." + normalize("/" + decoded));
  if (base !== root && !base.startsWith(root + sep)) return undefined;
  const candidates = decoded.endsWith("/") ? [join(base, "index.html")] : [base, `${base}.html`];
  for (const candidate of candidates) {
    const info = await stat(candidate).catch(() => undefined);
    if (info?.isFile()) return candidate;
  }
  return undefined;
}

/** Starts serving `root`; resolves with the server and its URL once listening. */
export async function startServer({
  root,
  port = 0,
  host = "127.0.0.1",
  securityHeaders = () => SECURITY_HEADERS
}: {
  root: string;
  port?: number;
  host?: string;
  /**
   * The security headers of the response to a path (default: the site's {@link SECURITY_HEADERS} for
   * every path). Only the benchmark changes it, for a baseline page that cannot run under the site's CSP.
   */
  securityHeaders?: (pathname: string) => Readonly<Record<string, string>>;
}): Promise<{server: Server; url: string}> {
  const absRoot = resolve(root);
  const server = createServer(async (req, res) => {
    let security = securityHeaders("/");
    try {
      const url = new URL(req.url ?? "/", "http://localhost");
      security = securityHeaders(url.pathname);
      if (req.method !== "GET" && req.method !== "HEAD") {
        res.writeHead(405, {...security, Allow: "GET, HEAD"}).end();
        return;
      }
      let file = await findFile(absRoot, url.pathname);
      let status = 200;
      if (!file) {
        file = await findFile(absRoot, "/404.html");
        status = 404;
        if (!file) {
          res.writeHead(404, {...security, "Content-Type": "text/plain; charset=utf-8"}).end("404 未找到");
          return;
        }
      }
      const info = await stat(file);
      const type = MIME[extname(file)] ?? "application/octet-stream";
      const etag = `W/"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
      const headers: Record<string, string | number> = {
        "Content-Type": type,
        "Accept-Ranges": "bytes",
        "Cache-Control":
          !type.startsWith("text/html") && isImmutable(file.slice(absRoot.length))
            ? "public, max-age=31536000, immutable"
            : "no-cache",
        ETag: etag,
        "Last-Modified": new Date(info.mtimeMs).toUTCString(),
        ...security
      };
      // A revalidation (no-cache files: HTML, data without a hash) costs a round trip, not the bytes.
      if (status === 200 && req.headers["if-none-match"]?.split(/\s*,\s*/).includes(etag)) {
        res.writeHead(304, headers).end();
        return;
      }
      const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? "");
      if (status === 200 && range && (range[1] || range[2])) {
        const start = range[1] ? Number(range[1]) : Math.max(0, info.size - Number(range[2]));
        const end = range[1] && range[2] ? Math.min(Number(range[2]), info.size - 1) : info.size - 1;
        if (start > end || start >= info.size) {
          res.writeHead(416, {...security, "Content-Range": `bytes */${info.size}`}).end();
          return;
        }
        res.writeHead(206, {
          ...headers,
          "Content-Range": `bytes ${start}-${end}/${info.size}`,
          "Content-Length": end - start + 1
        });
        if (req.method === "HEAD") res.end();
        else createReadStream(file, {start, end}).pipe(res);
        return;
      }
      res.writeHead(status, {...headers, "Content-Length": info.size});
      if (req.method === "HEAD") res.end();
      else createReadStream(file).pipe(res);
    } catch (error) {
      if (!res.headersSent) res.writeHead(500, {...security, "Content-Type": "text/plain; charset=utf-8"});
      res.end(`500 服务器错误：${error instanceof Error ? error.message : String(error)}`);
    }
  });
  // Node closes idle keep-alive connections after 5 s; a browser that reuses one just then stalls for
  // tens of seconds (seen by `npm run bench` under DevTools throttling: one module took 40 s). 75 s, as nginx.
  server.keepAliveTimeout = 75_000;
  await new Promise<void>((resolvePromise, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolvePromise());
  });
  const address = server.address() as AddressInfo;
  return {server, url: `http://${host}:${address.port}/`};
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const root = fileURLToPath(new URL("../dist/", import.meta.url));
  const index = await stat(join(root, "index.html")).catch(() => undefined);
  if (!index) {
    console.error("[fundwatch] dist/ 中没有站点，请先运行 npm run build（或直接 npm start）");
    process.exit(1);
  }
  const port = Number(process.env.PORT ?? 3000);
  const {url} = await startServer({root, port, host: process.env.HOST ?? "127.0.0.1"});
  console.log(`医保基金监管分析 已启动：${url}（按 Ctrl+C 停止）`);
}
