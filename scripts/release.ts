/**
 * `npm run release [-- --out DIR] [--dist DIR]` (defaults `release/` and `dist/`): packages the built
 * site (with the build's `dist/build.json`) into one archive for the intranet server, which has no Node:
 *
 *   fundwatch-<as_of>-<built_at as YYYYMMDDTHHMMSSZ>-<commit7|nocommit>.tar.gz
 *     fundwatch-<id>/manifest.json   id, build time, as-of date, data inputs, versions, every site file
 *     fundwatch-<id>/SHA256SUMS      coreutils format: `sha256sum -c SHA256SUMS` on the server
 *     fundwatch-<id>/site/           the files of dist/
 *     fundwatch-<id>/nginx/          deploy/nginx/* (when present)
 *     fundwatch-<id>/install.sh      deploy/install.sh
 *     fundwatch-<id>/INSTALL.md      deploy/INSTALL.md
 *
 * and `<archive>.sha256` beside it. The archive is made by GNU tar with fixed order, times, owners
 * and modes and by `gzip -n`, so the same dist/ gives the same bytes. The site is first snapshotted
 * (hard links, or copies across file systems) and hashed from the snapshot, so a build that replaces
 * dist/ meanwhile cannot mix into the archive unnoticed (build.json is compared before and after).
 * The archive is written under a temporary name and renamed into place.
 */
import {spawn} from "node:child_process";
import {createHash} from "node:crypto";
import {createReadStream} from "node:fs";
import {
  copyFile,
  chmod,
  link,
  lstat,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  writeFile
} from "node:fs/promises";
import {dirname, join, relative, resolve} from "node:path";
import {pipeline} from "node:stream/promises";
import {fileURLToPath} from "node:url";
import {createGunzip} from "node:zlib";
import {z} from "zod";
import {BuildInfo, BuildInput} from "./build-info.js";
import {GateReport} from "../loaders/gates.js";
import {isAlive} from "../loaders/duckdb-file.js";
import {sha256File} from "../loaders/outputs.js";

export {BuildInfo, BuildInput};

const projectRoot = fileURLToPath(new URL("../", import.meta.url));

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, "应为 64 位十六进制 sha256");
const count = z.number().int().nonnegative();

const FileEntry = z.object({path: z.string(), size: count, sha256: sha256Hex});
export type FileEntry = z.infer<typeof FileEntry>;

export const MANIFEST_FORMAT = 1;

/** `manifest.json` at the top of a release. `files` are the site's, relative to `site/`. */
export const Manifest = z.object({
  format: z.literal(MANIFEST_FORMAT),
  id: z.string().regex(/^fundwatch-[A-Za-z0-9._-]+$/),
  as_of: z.string(),
  built_at: z.string(),
  commit: z.string().nullable(),
  commit_dirty: z.boolean(),
  versions: z.object({framework: z.string(), duckdb_wasm: z.string(), node: z.string()}),
  data: z.object({source: z.string(), generated_at: z.string(), inputs: z.array(BuildInput)}),
  /** The build's page check (always `passed` unless packaged with --allow-unchecked). */
  page_check: BuildInfo.shape.page_check,
  /** The completeness gates' verdict: an exception an administrator accepted is named here with its reason. */
  gates: GateReport.optional(),
  totals: z.object({files: count, bytes: count, gzip_siblings: count}),
  files: z.array(FileEntry),
  /** The release's other files (install.sh, INSTALL.md, nginx/…), relative to the top folder. */
  package_files: z.array(FileEntry)
});
export type Manifest = z.infer<typeof Manifest>;

/** Folders whose files never change under the same name: kept across a swap by install.sh. */
export const IMMUTABLE_DIRS = ["_observablehq", "_import", "_file", "_npm", "_node"] as const;

export class ReleaseError extends Error {
  override name = "ReleaseError";
}

/** `2026-11-30T05:40:00.000Z` → `20261130T054000Z`. */
export function compactTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) throw new ReleaseError(`无法解析时间：${iso}`);
  return d
    .toISOString()
    .replace(/\.\d{3}Z$/, "Z")
    .replace(/[-:]/g, "");
}

/** The release's name: `fundwatch-<as_of>-<YYYYMMDDTHHMMSSZ>-<commit7|nocommit>`. */
export function releaseId(build: BuildInfo): string {
  const commit = build.commit ? build.commit.slice(0, 7) : "nocommit";
  return `fundwatch-${build.data.as_of}-${compactTime(build.built_at)}-${commit}`;
}

/** Reads and checks `build.json`; the error says what to do, in Chinese. */
export async function readBuildInfo(path: string): Promise<BuildInfo> {
  let text: string;
  try {
    text = await readFile(path, "utf-8");
  } catch {
    throw new ReleaseError(`找不到 ${path}：先运行 npm run build`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ReleaseError(`${path} 不是有效的 JSON（${(error as Error).message}）：先运行 npm run build`);
  }
  const parsed = BuildInfo.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(根)"}：${i.message}`);
    throw new ReleaseError(`${path} 格式不对（${issues.join("；")}）：先运行 npm run build`);
  }
  return parsed.data;
}

export {sha256File};

/** sha256 of the gunzipped content of `path`; throws when it is not valid gzip. */
export async function sha256Gunzip(path: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(path), createGunzip(), hash);
  return hash.digest("hex");
}

/** Byte order (as `LC_ALL=C sort` and `tar --sort=name` within a folder). */
export const byPath = (a: {path: string}, b: {path: string}): number =>
  Buffer.compare(Buffer.from(a.path), Buffer.from(b.path));

/** A name `sha256sum` would have to escape, or one that is not a plain relative path. */
function badName(path: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /[\\\n\r\u0000-\u001f\u007f]/.test(path);
}

/** Every file under `dir` (relative, `/`-separated); symbolic links and special files are an error. */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (sub: string): Promise<void> => {
    for (const entry of await readdir(join(dir, sub), {withFileTypes: true})) {
      const rel = sub ? `${sub}/${entry.name}` : entry.name;
      if (entry.isDirectory()) await walk(rel);
      else if (entry.isFile()) out.push(rel);
      else throw new ReleaseError(`${join(dir, rel)} 不是普通文件（符号链接或特殊文件），发布包里不允许`);
    }
  };
  await walk("");
  return out.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/** Size and sha256 of each file (paths relative to `dir`), sorted by path. */
export async function describeFiles(dir: string, paths: string[]): Promise<FileEntry[]> {
  const entries: FileEntry[] = [];
  for (const path of paths) {
    if (badName(path)) throw new ReleaseError(`文件名含有反斜杠或控制字符，无法写入 SHA256SUMS：${path}`);
    const info = await lstat(join(dir, path));
    entries.push({path, size: info.size, sha256: await sha256File(join(dir, path))});
  }
  return entries.sort(byPath);
}

/**
 * The `.gz` siblings among `files` (X.gz next to X) whose content is not exactly X's:
 * one message per file, empty when all match.
 */
export async function checkGzipSiblings(dir: string, files: FileEntry[], prefix = ""): Promise<string[]> {
  const byName = new Map(files.map((f) => [f.path, f]));
  const problems: string[] = [];
  for (const f of files) {
    if (!f.path.endsWith(".gz")) continue;
    const original = byName.get(f.path.slice(0, -3));
    if (!original) continue;
    let actual: string;
    try {
      actual = await sha256Gunzip(join(dir, f.path));
    } catch (error) {
      problems.push(`压缩文件无法解压：${prefix}${f.path}（${(error as Error).message}）`);
      continue;
    }
    if (actual !== original.sha256)
      problems.push(
        `压缩文件解压后与原文件不同：${prefix}${f.path}（解压后 sha256 ${actual}，${prefix}${original.path} 为 ${original.sha256}）`
      );
  }
  return problems;
}

export const gzipSiblingCount = (files: FileEntry[]): number => {
  const names = new Set(files.map((f) => f.path));
  return files.filter((f) => f.path.endsWith(".gz") && names.has(f.path.slice(0, -3))).length;
};

/** The lines of SHA256SUMS (`<hash>  <path>`, sorted by path). */
export function sha256sums(entries: FileEntry[]): string {
  return [...entries]
    .sort(byPath)
    .map((e) => `${e.sha256}  ${e.path}\n`)
    .join("");
}

function run(
  command: string,
  args: string[],
  options: {cwd?: string; stdout?: number} = {}
): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: {...process.env, LC_ALL: "C", TZ: "UTC"},
      stdio: ["ignore", options.stdout ?? "pipe", "pipe"]
    });
    let out = "";
    let err = "";
    child.stdout?.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => (err += chunk.toString()));
    child.on("error", (error) => reject(new ReleaseError(`无法运行 ${command}：${error.message}`)));
    child.on("close", (code, signal) =>
      code === 0
        ? resolvePromise(out)
        : reject(
            new ReleaseError(
              `${command} ${args.join(" ")} 失败（${signal ?? `退出码 ${code}`}）：${err.trim()}`
            )
          )
    );
  });
}

/** Fails unless `tar` is GNU tar with `--sort=name` (1.28 or later). */
async function requireGnuTar(): Promise<void> {
  const version = await run("tar", ["--version"]).catch(() => "");
  const match = /GNU tar\)? (\d+)\.(\d+)/.exec(version);
  if (!match || Number(match[1]) * 100 + Number(match[2]) < 128)
    throw new ReleaseError("需要 GNU tar 1.28 或更新版本（用于可重复的打包：--sort=name）");
}

/**
 * Writes a deterministic `.tar.gz` of `top` (a folder inside `parent`) to `file`: entries sorted by
 * name, every time set to `mtime`, owner and group 0, modes normalized, no gzip name or time.
 */
export async function writeDeterministicTarGz(
  parent: string,
  top: string,
  file: string,
  mtime: Date
): Promise<void> {
  const handle = await open(file, "w");
  try {
    await new Promise<void>((resolvePromise, reject) => {
      const env = {...process.env, LC_ALL: "C", TZ: "UTC"};
      const tar = spawn(
        "tar",
        [
          "--create",
          "--file=-",
          "--format=gnu",
          "--sort=name",
          `--mtime=@${Math.floor(mtime.getTime() / 1000)}`,
          "--owner=0",
          "--group=0",
          "--numeric-owner",
          "--mode=u=rwX,go=rX",
          "--hard-dereference",
          "--no-acls",
          "--no-xattrs",
          "--no-selinux",
          "-C",
          parent,
          top
        ],
        {env, stdio: ["ignore", "pipe", "pipe"]}
      );
      const gzip = spawn("gzip", ["-n", "-6"], {env, stdio: ["pipe", handle.fd, "pipe"]});
      const {stdin: gzipIn, stderr: gzipErr} = gzip;
      if (!gzipIn || !gzipErr) throw new ReleaseError("无法启动 gzip");
      tar.stdout.pipe(gzipIn);
      let errors = "";
      tar.stderr.on("data", (c: Buffer) => (errors += c.toString()));
      gzipErr.on("data", (c: Buffer) => (errors += c.toString()));
      let pending = 2;
      let failed: string | null = null;
      const finish = (name: string) => (code: number | null, signal: NodeJS.Signals | null) => {
        if (code !== 0) failed ??= `${name} 失败（${signal ?? `退出码 ${code}`}）`;
        if (--pending === 0)
          if (failed) reject(new ReleaseError(`${failed}：${errors.trim()}`));
          else resolvePromise();
      };
      tar.on("error", (e) => reject(new ReleaseError(`无法运行 tar：${e.message}`)));
      gzip.on("error", (e) => reject(new ReleaseError(`无法运行 gzip：${e.message}`)));
      tar.on("close", finish("tar"));
      gzip.on("close", finish("gzip"));
    });
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Hard-links `from` to `to`, copying when the two are on different file systems. */
async function linkOrCopy(from: string, to: string): Promise<void> {
  await mkdir(dirname(to), {recursive: true});
  try {
    await link(from, to);
  } catch {
    await copyFile(from, to);
  }
}

/** Removes what a killed release run left in `out` (`.staging-*.<pid>`, `*.<pid>.tmp` of dead pids). */
async function removeStale(out: string): Promise<void> {
  for (const entry of await readdir(out).catch(() => [] as string[])) {
    const match = /^\.staging-.*\.(\d+)$/.exec(entry) ?? /^.*\.tar\.gz(?:\.sha256)?\.(\d+)\.tmp$/.exec(entry);
    if (!match) continue;
    const pid = Number(match[1]);
    if (pid !== process.pid && isAlive(pid)) continue;
    await rm(join(out, entry), {recursive: true, force: true});
  }
}

export interface ReleaseOptions {
  /** The built site (default: the project's dist/). */
  dist?: string;
  /** Where the archive goes (default: the project's release/). */
  out?: string;
  /** nginx include files to ship (default deploy/nginx; skipped when missing). */
  nginxDir?: string;
  installScript?: string;
  installGuide?: string;
  /** Package a build made with `--no-check` (default false: refused, its pages were never opened). */
  allowUnchecked?: boolean;
  log?: (message: string) => void;
}

export interface ReleaseResult {
  id: string;
  archive: string;
  sidecar: string;
  sha256: string;
  bytes: number;
  manifest: Manifest;
}

/** Builds the release archive of `dist`; see the file's comment. */
export async function createRelease(options: ReleaseOptions = {}): Promise<ReleaseResult> {
  const dist = resolve(options.dist ?? join(projectRoot, "dist"));
  const out = resolve(options.out ?? join(projectRoot, "release"));
  const nginxDir = options.nginxDir ?? join(projectRoot, "deploy", "nginx");
  const installScript = options.installScript ?? join(projectRoot, "deploy", "install.sh");
  const installGuide = options.installGuide ?? join(projectRoot, "deploy", "INSTALL.md");
  const log = options.log ?? ((message: string) => console.error(message));

  const distInfo = await lstat(dist).catch(() => null);
  if (!distInfo?.isDirectory()) throw new ReleaseError(`找不到构建目录 ${dist}：先运行 npm run build`);
  const buildJsonPath = join(dist, "build.json");
  const before = await readFile(buildJsonPath, "utf-8").catch(() => null);
  if (before === null) throw new ReleaseError(`找不到 ${buildJsonPath}：先运行 npm run build`);
  for (const [what, path] of [
    ["安装脚本", installScript],
    ["安装说明", installGuide]
  ] as const)
    if (!(await lstat(path).catch(() => null))?.isFile()) throw new ReleaseError(`找不到${what} ${path}`);
  await requireGnuTar();

  await mkdir(out, {recursive: true});
  await removeStale(out);
  const build0 = await readBuildInfo(buildJsonPath);
  if (build0.page_check.status !== "passed" && !options.allowUnchecked)
    throw new ReleaseError(
      "这个构建没有经过发布前的页面检查（用 --no-check 构建，例如 npm start）：先运行 npm run build，" +
        "它打开每个页面、全部通过后才发布到 dist/。确需打包未检查的构建时加 --allow-unchecked。"
    );
  const id = releaseId(build0);
  const staging = join(out, `.staging-${id}.${process.pid}`);
  const top = join(staging, id);
  const site = join(top, "site");
  await rm(staging, {recursive: true, force: true});
  try {
    // 1. Snapshot the site, then check that dist/ was not replaced meanwhile.
    const sitePaths = await listFiles(dist);
    for (const path of sitePaths) await linkOrCopy(join(dist, path), join(site, path));
    const after = await readFile(buildJsonPath, "utf-8").catch(() => null);
    const staged = await readFile(join(site, "build.json"), "utf-8");
    if (after !== before || staged !== before)
      throw new ReleaseError(
        "打包期间 dist/ 被重新构建（build.json 变了），请在构建结束后重新运行 npm run release"
      );
    const build = await readBuildInfo(join(site, "build.json"));

    // 2. Hash the snapshot; a .gz that is not its original's exact compression stops the release.
    const files = await describeFiles(site, sitePaths);
    const gzProblems = await checkGzipSiblings(site, files, "dist/");
    if (gzProblems.length) throw new ReleaseError(`构建结果有误，未打包：\n  ${gzProblems.join("\n  ")}`);

    // 3. The package's own files.
    const packagePaths: string[] = [];
    await copyFile(installScript, join(top, "install.sh"));
    await chmod(join(top, "install.sh"), 0o755);
    await copyFile(installGuide, join(top, "INSTALL.md"));
    packagePaths.push("install.sh", "INSTALL.md");
    const nginxFiles = await listFiles(nginxDir).catch(() => null);
    if (nginxFiles?.length) {
      for (const f of nginxFiles) {
        await mkdir(dirname(join(top, "nginx", f)), {recursive: true});
        await copyFile(join(nginxDir, f), join(top, "nginx", f));
      }
      packagePaths.push(...nginxFiles.map((f) => `nginx/${f}`));
    } else log(`[fundwatch] 提示：没有 ${nginxDir}，发布包里不含 nginx 配置。`);
    const packageFiles = await describeFiles(top, packagePaths);

    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      id,
      as_of: build.data.as_of,
      built_at: build.built_at,
      commit: build.commit,
      commit_dirty: build.commit_dirty,
      versions: build.versions,
      data: {source: build.data.source, generated_at: build.data.generated_at, inputs: build.data.inputs},
      page_check: build.page_check,
      ...(build.data.gates ? {gates: build.data.gates} : {}),
      totals: {
        files: files.length,
        bytes: files.reduce((sum, f) => sum + f.size, 0),
        gzip_siblings: gzipSiblingCount(files)
      },
      files,
      package_files: packageFiles
    };
    const manifestText = JSON.stringify(manifest, null, 2) + "\n";
    await writeFile(join(top, "manifest.json"), manifestText);
    const manifestEntry: FileEntry = {
      path: "manifest.json",
      size: Buffer.byteLength(manifestText),
      sha256: createHash("sha256").update(manifestText).digest("hex")
    };
    await writeFile(
      join(top, "SHA256SUMS"),
      sha256sums([...files.map((f) => ({...f, path: `site/${f.path}`})), ...packageFiles, manifestEntry])
    );

    // 4. The archive, under a temporary name, then renamed; its sidecar likewise.
    const name = `${id}.tar.gz`;
    const archive = join(out, name);
    const tempArchive = `${archive}.${process.pid}.tmp`;
    await writeDeterministicTarGz(staging, id, tempArchive, new Date(build.built_at));
    const sha256 = await sha256File(tempArchive);
    const bytes = (await lstat(tempArchive)).size;
    const sidecar = `${archive}.sha256`;
    const tempSidecar = `${sidecar}.${process.pid}.tmp`;
    await writeFile(tempSidecar, `${sha256}  ${name}\n`);
    await rename(tempArchive, archive);
    await rename(tempSidecar, sidecar);
    if (build.commit_dirty)
      log("[fundwatch] 注意：构建时工作区有未提交的改动（commit_dirty），提交号不能完全代表这次构建。");
    return {id, archive, sidecar, sha256, bytes, manifest};
  } finally {
    await rm(staging, {recursive: true, force: true});
    await removeStale(out);
  }
}

export const formatBytes = (n: number): string =>
  n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} KB` : `${n} 字节`;

const USAGE =
  "用法：npm run release [-- --out 输出目录（默认 release/）] [--dist 站点目录（默认 dist/）] [--allow-unchecked]";

function parseArgs(argv: string[]): {out?: string; dist?: string; allowUnchecked?: boolean} {
  const options: {out?: string; dist?: string; allowUnchecked?: boolean} = {};
  for (let i = 0; i < argv.length; ++i) {
    const arg = argv[i];
    const value = argv[i + 1];
    if (arg === "--allow-unchecked") options.allowUnchecked = true;
    else if ((arg === "--out" || arg === "--dist") && value !== undefined && !value.startsWith("--")) {
      options[arg === "--out" ? "out" : "dist"] = value;
      ++i;
    } else if (arg === "-h" || arg === "--help") throw new Error(USAGE);
    else throw new Error(`${USAGE}\n不认识的参数或缺少取值：${arg}`);
  }
  return options;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  let args: {out?: string; dist?: string; allowUnchecked?: boolean};
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (error) {
    console.error((error as Error).message);
    process.exit(2);
  }
  try {
    const result = await createRelease(args);
    const m = result.manifest;
    const shown = relative(process.cwd(), result.archive);
    console.log(shown.startsWith("..") ? result.archive : shown);
    console.log(
      `${m.id}：数据截至 ${m.as_of}，构建于 ${m.built_at}，提交 ${m.commit?.slice(0, 7) ?? "无"}；` +
        `站点 ${m.totals.files} 个文件（${formatBytes(m.totals.bytes)}，其中 .gz ${m.totals.gzip_siblings} 个），` +
        `发布包 ${formatBytes(result.bytes)}，sha256 ${result.sha256}`
    );
  } catch (error) {
    console.error(`[fundwatch] 打包失败：${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
