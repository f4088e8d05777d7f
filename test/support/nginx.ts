/**
 * A real nginx (the Debian package's /usr/sbin/nginx) serving a site with the deploy configuration of
 * deploy/nginx/: example-nginx.conf with its paths moved into a temporary folder, listening on
 * 127.0.0.1 on a free port, fundwatch-http.conf as it is, and fundwatch-location.conf once per mount
 * with its two placeholders (`/reports/fund`, `/srv/fundwatch/current/site/`) replaced, as an
 * administrator does. Runs in the foreground (`daemon off`) as a child process; works as root (the
 * workers then run as www-data, or nobody) and as any other user.
 */
import {spawn, type ChildProcess} from "node:child_process";
import {existsSync} from "node:fs";
import {chmod, mkdir, readFile, writeFile} from "node:fs/promises";
import {request} from "node:http";
import {createServer} from "node:net";
import {join} from "node:path";

export const NGINX = process.env.NGINX_PATH ?? "/usr/sbin/nginx";
export const DEPLOY = join(import.meta.dirname, "..", "..", "deploy", "nginx");

export const NGINX_MISSING =
  `找不到 nginx（${NGINX}）：nginx 测试需要 Debian 的 nginx。请运行：\n` +
  "  sudo apt-get update && sudo apt-get install -y nginx-light\n" +
  "（或设置 NGINX_PATH 指向 nginx 可执行文件）";

/** The placeholders of fundwatch-location.conf. */
export const PREFIX_PLACEHOLDER = "/reports/fund";
export const SITE_PLACEHOLDER = "/srv/fundwatch/current/site/";

export interface Mount {
  /** The sub-path, with both slashes: `/reports/fund/`. */
  prefix: string;
  /** The site's folder, ending in `/`. */
  site: string;
}

export interface NginxOptions {
  /**
   * Changes the assembled nginx.conf before nginx reads it: called with it and `dir`, where the mounts'
   * fundwatch-location-<i>.conf are already written (it may change those too); answers the nginx.conf to
   * use. Called again for each port tried.
   */
  edit?: (config: string, dir: string) => Promise<string>;
  /**
   * The path asked (HEAD) until nginx answers, `/` by default. Outside every mount nginx answers 404 and
   * logs an error, so a caller that reads the error log asks for a mount's.
   */
  probe?: string;
}

export interface RunningNginx {
  port: number;
  origin: string;
  /** The assembled nginx.conf (as {@link NginxOptions.edit} changed it). */
  config: string;
  /** What nginx wrote to stderr, and its error log. */
  logs(): Promise<string>;
  stop(): Promise<void>;
}

function replaceOnce(text: string, from: string, to: string, file: string): string {
  if (!text.includes(from)) throw new Error(`${file} 中找不到「${from}」：测试与部署配置不一致`);
  return text.replace(from, to);
}

/** fundwatch-location.conf with its placeholders replaced by `mount`. */
export async function locationConfig(mount: Mount): Promise<string> {
  if (!/^\/(.+\/)?$/.test(mount.prefix) || !mount.site.endsWith("/"))
    throw new Error(`子路径和目录都要以 / 结尾：${mount.prefix}、${mount.site}`);
  const text = await readFile(join(DEPLOY, "fundwatch-location.conf"), "utf-8");
  for (const placeholder of [PREFIX_PLACEHOLDER, SITE_PLACEHOLDER])
    if (!text.includes(placeholder)) throw new Error(`fundwatch-location.conf 中没有占位「${placeholder}」`);
  return text
    .replaceAll(SITE_PLACEHOLDER, mount.site)
    .replaceAll(PREFIX_PLACEHOLDER, mount.prefix.slice(0, -1));
}

/** The worker user when nginx starts as root: Debian's www-data, else nobody. */
async function workerUser(): Promise<string> {
  const passwd = await readFile("/etc/passwd", "utf-8").catch(() => "");
  const group = await readFile("/etc/group", "utf-8").catch(() => "");
  const has = (text: string, name: string): boolean => new RegExp(`^${name}:`, "m").test(text);
  if (has(passwd, "www-data") && has(group, "www-data")) return "www-data www-data";
  return `nobody ${has(group, "nogroup") ? "nogroup" : "nobody"}`;
}

/** example-nginx.conf, with its paths in `dir`, listening on 127.0.0.1:`port`. */
export async function nginxConfig(dir: string, port: number, mounts: readonly Mount[]): Promise<string> {
  const file = "example-nginx.conf";
  let text = await readFile(join(DEPLOY, file), "utf-8");
  const root = process.getuid?.() === 0;
  // As root the master starts workers as this user; as anyone else the directive would only warn.
  text = replaceOnce(text, "user www-data;", root ? `user ${await workerUser()};` : "", file);
  text = replaceOnce(text, "pid /run/nginx.pid;", `pid ${join(dir, "nginx.pid")};`, file);
  text = replaceOnce(
    text,
    "error_log /var/log/nginx/error.log;",
    `error_log ${join(dir, "error.log")} warn;`,
    file
  );
  text = replaceOnce(
    text,
    "access_log /var/log/nginx/access.log;",
    `access_log ${join(dir, "access.log")};`,
    file
  );
  // The packaged temp folders (/var/lib/nginx/…) are root's; all five, so nginx creates none there.
  const temps = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]
    .map((t) => `    ${t}_temp_path ${join(dir, "temp", t)};`)
    .join("\n");
  text = replaceOnce(text, "http {\n", `http {\n${temps}\n`, file);
  text = replaceOnce(
    text,
    "include /etc/nginx/fundwatch-http.conf;",
    `include ${join(DEPLOY, "fundwatch-http.conf")};`,
    file
  );
  text = replaceOnce(text, "listen 80;", `listen 127.0.0.1:${port};`, file);
  const includes: string[] = [];
  for (const [i, mount] of mounts.entries()) {
    const location = join(dir, `fundwatch-location-${i}.conf`);
    await writeFile(location, await locationConfig(mount));
    includes.push(`include ${location};`);
  }
  return replaceOnce(text, "include /etc/nginx/fundwatch-location.conf;", includes.join("\n        "), file);
}

/**
 * `sh -c WATCH name nginx args…`: starts nginx, stops it (SIGTERM) once stdin reaches its end, and
 * exits with nginx's status. The reader gets stdin as fd 3: a background job's own stdin is /dev/null.
 */
const WATCH = [
  "exec 3<&0",
  '"$@" &',
  "n=$!",
  '(read -r _ <&3; kill -TERM "$n" 2>/dev/null) &',
  "w=$!",
  'wait "$n"',
  "s=$?",
  'kill "$w" 2>/dev/null',
  'exit "$s"'
].join("\n");

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("无法取得空闲端口");
  return address.port;
}

function answers(port: number, path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(
      {host: "127.0.0.1", port, path, method: "HEAD", agent: false, timeout: 1000},
      (res) => {
        res.resume();
        resolve(true);
      }
    );
    req.on("error", () => resolve(false));
    req.on("timeout", () => {
      req.destroy();
      resolve(false);
    });
    req.end();
  });
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
}

/**
 * Starts nginx with the deploy configuration in `dir` (created if needed; made traversable, because
 * as root the workers run as another user), changed by `options.edit` if given. Rejects, with nginx's
 * own words, if it does not answer within 15 s.
 */
export async function startNginx(
  dir: string,
  mounts: readonly Mount[],
  options: NginxOptions = {}
): Promise<RunningNginx> {
  if (!existsSync(NGINX)) throw new Error(NGINX_MISSING);
  await mkdir(join(dir, "temp"), {recursive: true});
  await chmod(dir, 0o755);
  let lastError = "";
  for (let attempt = 0; attempt < 3; ++attempt) {
    const port = await freePort();
    const assembled = await nginxConfig(dir, port, mounts);
    const config = options.edit ? await options.edit(assembled, dir) : assembled;
    const configFile = join(dir, "nginx.conf");
    await writeFile(configFile, config);
    const args = ["-p", `${dir}/`, "-c", configFile, "-e", join(dir, "error.log"), "-g", "daemon off;"];
    // nginx runs under a small shell that stops it when its stdin closes: on stop(), and also when
    // this process dies without running afterAll (a crash), since the pipe then closes too.
    const child = spawn("/bin/sh", ["-c", WATCH, "nginx-watch", NGINX, ...args], {
      stdio: ["pipe", "pipe", "pipe"]
    });
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("error", (error) => (output += `\n${error.message}`));
    const logs = async (): Promise<string> =>
      `${output}${await readFile(join(dir, "error.log"), "utf-8").catch(() => "")}`;
    const stop = async (): Promise<void> => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.stdin?.end(); // the shell sends nginx SIGTERM (fast shutdown) and waits for it
      const timer = setTimeout(() => {
        void readFile(join(dir, "nginx.pid"), "utf-8")
          .then((pid) => process.kill(Number(pid), "SIGKILL"))
          .catch(() => undefined)
          .finally(() => child.kill("SIGKILL"));
      }, 10_000);
      await exited(child);
      clearTimeout(timer);
    };
    const started = Date.now();
    while (Date.now() - started < 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) break;
      if (await answers(port, options.probe ?? "/"))
        return {port, origin: `http://127.0.0.1:${port}`, config, logs, stop};
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await stop();
    lastError = await logs();
    if (!/Address already in use/.test(lastError)) break; // another process took the port: try another
  }
  throw new Error(`nginx 没有启动：\n${lastError}`);
}
