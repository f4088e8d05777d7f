/**
 * `npm run verify-release -- <fundwatch-….tar.gz>`: checks a release archive made by `npm run release`
 * before it is shipped or installed.
 *
 * 1. The `<archive>.sha256` sidecar, when present (the report says when it is absent).
 * 2. The archive's entries, read by a tar reader of our own before anything is extracted: every entry
 *    must be a file or folder under the one top folder `fundwatch-<id>/`; absolute paths, `..`, links
 *    pointing outside the top folder, device files and the like make it refuse to extract.
 * 3. Extracted (GNU tar) into a temporary folder, the files are compared with manifest.json: missing,
 *    extra and changed files (expected and actual sha256 and size), SHA256SUMS against the manifest,
 *    every `X.gz` beside an `X` must decompress to exactly `X`, and the site's build.json must agree
 *    with the manifest (id, as-of date, build time, commit, versions, data inputs).
 *
 * Prints a report in Chinese naming each path that differs. Exit code 0 when everything matches, 1
 * when anything differs, 2 on a usage error.
 */
import {spawn} from "node:child_process";
import {createReadStream} from "node:fs";
import {lstat, mkdtemp, readdir, readFile, rm} from "node:fs/promises";
import {tmpdir} from "node:os";
import {basename, join, posix, resolve} from "node:path";
import {createGunzip} from "node:zlib";
import {
  BuildInfo,
  checkGzipSiblings,
  describeFiles,
  formatBytes,
  Manifest,
  releaseId,
  sha256File,
  type FileEntry
} from "./release.js";

export interface TarEntry {
  name: string;
  /** `file`, `dir`, `symlink`, `hardlink`, or another tar type (`char`, `block`, `fifo`, `type X`). */
  type: string;
  linkname: string;
  size: number;
}

const TYPES: Record<string, string> = {
  "0": "file",
  "\0": "file",
  "7": "file",
  "1": "hardlink",
  "2": "symlink",
  "3": "char",
  "4": "block",
  "5": "dir",
  "6": "fifo"
};

/** Reads exactly the bytes asked for from an async iterable of chunks. */
class ByteReader {
  private buffer: Buffer = Buffer.alloc(0);
  private done = false;
  constructor(private readonly source: AsyncIterator<Buffer>) {}

  private async more(): Promise<boolean> {
    if (this.done) return false;
    const next = await this.source.next();
    if (next.done) {
      this.done = true;
      return false;
    }
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, next.value]) : next.value;
    return true;
  }

  /** `n` bytes, or null at the end of the input (a short read is an error). */
  async read(n: number): Promise<Buffer | null> {
    while (this.buffer.length < n) {
      if (!(await this.more())) {
        if (this.buffer.length === 0) return null;
        throw new Error("tar 数据被截断");
      }
    }
    const out = this.buffer.subarray(0, n);
    this.buffer = this.buffer.subarray(n);
    return out;
  }

  async skip(n: number): Promise<void> {
    while (n > 0) {
      if (this.buffer.length === 0 && !(await this.more())) throw new Error("tar 数据被截断");
      const take = Math.min(n, this.buffer.length);
      this.buffer = this.buffer.subarray(take);
      n -= take;
    }
  }
}

const cString = (b: Buffer): string => {
  const end = b.indexOf(0);
  return b.subarray(0, end < 0 ? b.length : end).toString("utf-8");
};

function octal(b: Buffer): number {
  // GNU base-256 for large values: the first byte's top bit set.
  if ((b[0] ?? 0) & 0x80) {
    let value = (b[0] ?? 0) & 0x7f;
    for (let i = 1; i < b.length; ++i) value = value * 256 + (b[i] ?? 0);
    return value;
  }
  const text = cString(b).trim();
  return text ? parseInt(text, 8) : 0;
}

function paxRecords(data: Buffer): Map<string, string> {
  const records = new Map<string, string>();
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space < 0) break;
    const length = parseInt(data.subarray(at, space).toString(), 10);
    if (!(length > 0)) break;
    const record = data.subarray(space + 1, at + length - 1).toString("utf-8");
    const eq = record.indexOf("=");
    if (eq > 0) records.set(record.slice(0, eq), record.slice(eq + 1));
    at += length;
  }
  return records;
}

/** Lists the entries of a `.tar.gz` (GNU, ustar and pax), without extracting anything. */
export async function listTarGz(path: string): Promise<TarEntry[]> {
  const stream = createReadStream(path).pipe(createGunzip());
  const reader = new ByteReader(stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>);
  const entries: TarEntry[] = [];
  let longName: string | null = null;
  let longLink: string | null = null;
  let pax = new Map<string, string>();
  try {
    for (;;) {
      const header = await reader.read(512);
      if (header === null || header.every((byte) => byte === 0)) break;
      let sum = 0;
      for (let i = 0; i < 512; ++i) sum += i >= 148 && i < 156 ? 32 : (header[i] ?? 0);
      if (sum !== octal(header.subarray(148, 156))) throw new Error("tar 头部校验和不对");
      const typeflag = String.fromCharCode(header[156] ?? 0);
      const size = octal(header.subarray(124, 136));
      const padded = Math.ceil(size / 512) * 512;
      if (typeflag === "L" || typeflag === "K" || typeflag === "x" || typeflag === "g") {
        if (size > 1 << 20) throw new Error(`tar 扩展头过大（${size} 字节）`);
        const data = (await reader.read(padded)) ?? Buffer.alloc(0);
        const body = data.subarray(0, size);
        if (typeflag === "L") longName = cString(body);
        else if (typeflag === "K") longLink = cString(body);
        else if (typeflag === "x") pax = paxRecords(body);
        // A global pax header ("g") sets defaults for later entries; it is refused below as a type.
        else entries.push({name: "(pax 全局头)", type: "type g", linkname: "", size});
        continue;
      }
      const magic = header.subarray(257, 263).toString("latin1");
      const prefix = magic === "ustar\0" ? cString(header.subarray(345, 500)) : "";
      let name = cString(header.subarray(0, 100));
      if (prefix) name = `${prefix}/${name}`;
      name = pax.get("path") ?? longName ?? name;
      const linkname = pax.get("linkpath") ?? longLink ?? cString(header.subarray(157, 257));
      const realSize = pax.has("size") ? Number(pax.get("size")) : size;
      entries.push({name, type: TYPES[typeflag] ?? `type ${typeflag}`, linkname, size: realSize});
      longName = longLink = null;
      pax = new Map();
      const dataBytes = typeflag === "1" || typeflag === "2" || typeflag === "5" ? 0 : realSize;
      await reader.skip(Math.ceil(dataBytes / 512) * 512);
    }
  } finally {
    stream.destroy();
  }
  return entries;
}

/**
 * Whether the entries can be extracted safely: one top folder `fundwatch-…/`, files and folders only,
 * no absolute path, no `..`, no link leaving the top folder. Returns the top folder and the problems.
 */
export function checkEntries(entries: TarEntry[]): {top: string | null; problems: string[]} {
  const problems: string[] = [];
  const tops = new Set<string>();
  const seen = new Set<string>();
  for (const entry of entries) {
    const name = entry.name;
    const parts = name.split("/").filter((p) => p !== "" && p !== ".");
    if (name.startsWith("/")) {
      problems.push(`不安全的条目（绝对路径）：${name}`);
      continue;
    }
    if (parts.includes("..")) {
      problems.push(`不安全的条目（含 ..）：${name}`);
      continue;
    }
    const first = parts[0];
    if (first === undefined) {
      problems.push(`不安全的条目（空路径）：${JSON.stringify(name)}`);
      continue;
    }
    tops.add(first);
    const normal = parts.join("/");
    if (seen.has(normal) && entry.type !== "dir") problems.push(`重复的条目：${name}`);
    seen.add(normal);
    if (entry.type === "symlink" || entry.type === "hardlink") {
      const target =
        entry.type === "symlink"
          ? entry.linkname.startsWith("/")
            ? entry.linkname
            : posix.normalize(posix.join(posix.dirname(normal), entry.linkname))
          : posix.normalize(entry.linkname);
      const inside =
        !target.startsWith("/") &&
        !target.startsWith("../") &&
        target !== ".." &&
        target.split("/")[0] === first;
      problems.push(
        inside
          ? `发布包不应含有链接：${name} → ${entry.linkname}`
          : `不安全的条目（链接指向包外）：${name} → ${entry.linkname}`
      );
    } else if (entry.type !== "file" && entry.type !== "dir")
      problems.push(`不安全的条目（不允许的类型 ${entry.type}）：${name}`);
    else if (parts.length === 1 && entry.type !== "dir") problems.push(`顶层只能是目录：${name}`);
  }
  if (tops.size > 1) problems.push(`发布包应只有一个顶层目录，实际有：${[...tops].sort().join("、")}`);
  const top = tops.size === 1 ? ([...tops][0] ?? null) : null;
  if (top !== null && !/^fundwatch-[A-Za-z0-9._-]+$/.test(top))
    problems.push(`顶层目录应为 fundwatch-<版本>/，实际为：${top}/`);
  return {top, problems};
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, {
      stdio: ["ignore", "ignore", "pipe"],
      env: {...process.env, LC_ALL: "C"}
    });
    let err = "";
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolvePromise() : reject(new Error(`${command} 退出码 ${code}：${err.trim()}`))
    );
  });
}

async function walk(dir: string, sub = ""): Promise<{files: string[]; odd: string[]}> {
  const files: string[] = [];
  const odd: string[] = [];
  for (const entry of await readdir(join(dir, sub), {withFileTypes: true})) {
    const rel = sub ? `${sub}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      const inner = await walk(dir, rel);
      files.push(...inner.files);
      odd.push(...inner.odd);
    } else if (entry.isFile()) files.push(rel);
    else odd.push(rel);
  }
  return {files, odd};
}

const describe = (e: {sha256: string; size: number}): string => `sha256 ${e.sha256}，${e.size} 字节`;

/** Compares expected entries with actual ones; each difference is one message naming the path. */
function compareEntries(expected: FileEntry[], actual: FileEntry[], prefix: string): string[] {
  const problems: string[] = [];
  const got = new Map(actual.map((a) => [a.path, a]));
  const want = new Map(expected.map((e) => [e.path, e]));
  for (const e of expected) {
    const a = got.get(e.path);
    if (!a) problems.push(`缺少文件：${prefix}${e.path}（清单：${describe(e)}）`);
    else if (a.sha256 !== e.sha256 || a.size !== e.size)
      problems.push(`文件内容不符：${prefix}${e.path}（清单：${describe(e)}；实际：${describe(a)}）`);
  }
  for (const a of actual)
    if (!want.has(a.path)) problems.push(`多出文件：${prefix}${a.path}（清单中没有；${describe(a)}）`);
  return problems;
}

/** Parses SHA256SUMS; malformed lines become problems. */
function parseSums(text: string): {sums: Map<string, string>; problems: string[]} {
  const sums = new Map<string, string>();
  const problems: string[] = [];
  text.split("\n").forEach((line, i) => {
    if (line === "") return;
    const match = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (!match?.[1] || !match[2]) problems.push(`SHA256SUMS 第 ${i + 1} 行格式不对：${line}`);
    else if (sums.has(match[2])) problems.push(`SHA256SUMS 重复列出：${match[2]}`);
    else sums.set(match[2], match[1]);
  });
  return {sums, problems};
}

const canonical = (value: unknown): string => JSON.stringify(value);

/** build.json of the site against the manifest. */
function compareBuild(build: BuildInfo, manifest: Manifest): string[] {
  const problems: string[] = [];
  const check = (what: string, inBuild: unknown, inManifest: unknown): void => {
    if (canonical(inBuild) !== canonical(inManifest))
      problems.push(
        `site/build.json 与清单不一致：${what}（build.json：${canonical(inBuild)}；清单：${canonical(inManifest)}）`
      );
  };
  check("数据截至日期 as_of", build.data.as_of, manifest.as_of);
  check("构建时间 built_at", build.built_at, manifest.built_at);
  check("提交 commit", build.commit, manifest.commit);
  check("commit_dirty", build.commit_dirty, manifest.commit_dirty);
  check("版本 versions", build.versions, manifest.versions);
  check("数据来源 source", build.data.source, manifest.data.source);
  check("数据生成时间 generated_at", build.data.generated_at, manifest.data.generated_at);
  check("页面检查 page_check", build.page_check, manifest.page_check);
  const inputs = new Map(manifest.data.inputs.map((i) => [i.file, i]));
  for (const input of build.data.inputs) {
    const m = inputs.get(input.file);
    if (!m) problems.push(`site/build.json 的数据文件不在清单中：${input.file}`);
    else check(`数据文件 ${input.file}`, input, m);
    inputs.delete(input.file);
  }
  for (const file of inputs.keys()) problems.push(`清单中的数据文件不在 site/build.json 中：${file}`);
  const id = releaseId(build);
  if (id !== manifest.id)
    problems.push(`按 site/build.json 算出的版本号 ${id} 与清单的 ${manifest.id} 不一致`);
  return problems;
}

export interface VerifyResult {
  ok: boolean;
  /** Every difference, one per line, naming the path. */
  problems: string[];
  /** What was checked or skipped (the sidecar, the archive's name). */
  notes: string[];
  manifest: Manifest | null;
}

/** Checks a release archive; see the file's comment. Never throws for a bad archive: it says why. */
export async function verifyRelease(archivePath: string): Promise<VerifyResult> {
  const archive = resolve(archivePath);
  const problems: string[] = [];
  const notes: string[] = [];
  let manifest: Manifest | null = null;
  const result = (): VerifyResult => ({ok: problems.length === 0, problems, notes, manifest});

  // 1. The sidecar.
  const sidecar = `${archive}.sha256`;
  const sidecarText = await readFile(sidecar, "utf-8").catch(() => null);
  const archiveSha = await sha256File(archive);
  if (sidecarText === null)
    notes.push(`没有校验文件 ${basename(sidecar)}，跳过整体校验（发布包 sha256 ${archiveSha}）`);
  else {
    const match = /^([0-9a-f]{64}) [ *](.+)$/.exec(sidecarText.split("\n")[0] ?? "");
    if (!match) problems.push(`校验文件格式不对：${basename(sidecar)}`);
    else if (match[1] !== archiveSha)
      problems.push(`发布包与校验文件不符：${basename(sidecar)} 记录 ${match[1]}，实际 ${archiveSha}`);
    else {
      notes.push(`整体校验通过：与 ${basename(sidecar)} 一致（sha256 ${archiveSha}）`);
      if (match[2] !== basename(archive)) notes.push(`校验文件记录的文件名是 ${match[2]}（发布包已改名）`);
    }
  }

  // 2. The entries, before extracting anything.
  let entries: TarEntry[];
  try {
    entries = await listTarGz(archive);
  } catch (error) {
    problems.push(`无法读取发布包（不是有效的 tar.gz，或已损坏）：${(error as Error).message}`);
    return result();
  }
  const safety = checkEntries(entries);
  if (safety.problems.length || safety.top === null) {
    problems.push(...safety.problems);
    if (safety.top === null && !safety.problems.length) problems.push("发布包是空的");
    problems.push("发布包不安全，未解压");
    return result();
  }
  const top = safety.top;
  if (basename(archive) !== `${top}.tar.gz`) notes.push(`文件名与发布包中的版本 ${top} 不一致（已改名？）`);

  // 3. Extract and compare.
  const temp = await mkdtemp(join(tmpdir(), "fundwatch-verify-"));
  try {
    try {
      await run("tar", ["-xzmf", archive, "-C", temp, "--no-same-owner", "--no-same-permissions"]);
    } catch (error) {
      problems.push(`解压失败：${(error as Error).message}`);
      return result();
    }
    const root = join(temp, top);
    const {files: all, odd} = await walk(root);
    for (const path of odd) problems.push(`发布包含有非普通文件：${top}/${path}`);

    const manifestText = await readFile(join(root, "manifest.json"), "utf-8").catch(() => null);
    if (manifestText === null) {
      problems.push("缺少文件：manifest.json");
      return result();
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(manifestText);
    } catch (error) {
      problems.push(`manifest.json 不是有效的 JSON：${(error as Error).message}`);
      return result();
    }
    const checked = Manifest.safeParse(parsed);
    if (!checked.success) {
      problems.push(
        `manifest.json 格式不对：${checked.error.issues.map((i) => `${i.path.join(".")}：${i.message}`).join("；")}`
      );
      return result();
    }
    manifest = checked.data;
    if (manifest.id !== top) problems.push(`清单中的版本号 ${manifest.id} 与顶层目录 ${top}/ 不一致`);

    // The site against the manifest.
    const siteFiles = await describeFiles(
      join(root, "site"),
      all.filter((p) => p.startsWith("site/")).map((p) => p.slice(5))
    );
    problems.push(...compareEntries(manifest.files, siteFiles, "site/"));
    const totalBytes = manifest.files.reduce((sum, f) => sum + f.size, 0);
    if (manifest.totals.files !== manifest.files.length || manifest.totals.bytes !== totalBytes)
      problems.push(
        `清单的合计不对：totals 为 ${manifest.totals.files} 个文件 ${manifest.totals.bytes} 字节，文件列表为 ${manifest.files.length} 个 ${totalBytes} 字节`
      );

    // The package's other files.
    const others = all.filter((p) => !p.startsWith("site/") && p !== "manifest.json" && p !== "SHA256SUMS");
    problems.push(...compareEntries(manifest.package_files, await describeFiles(root, others), ""));

    // SHA256SUMS against the manifest.
    const sumsText = await readFile(join(root, "SHA256SUMS"), "utf-8").catch(() => null);
    if (sumsText === null) problems.push("缺少文件：SHA256SUMS");
    else {
      const {sums, problems: malformed} = parseSums(sumsText);
      problems.push(...malformed);
      const expected = new Map<string, string>([
        ...manifest.files.map((f) => [`site/${f.path}`, f.sha256] as [string, string]),
        ...manifest.package_files.map((f) => [f.path, f.sha256] as [string, string]),
        ["manifest.json", await sha256File(join(root, "manifest.json"))]
      ]);
      for (const [path, sha] of expected) {
        const listed = sums.get(path);
        if (listed === undefined) problems.push(`SHA256SUMS 缺少：${path}`);
        else if (listed !== sha)
          problems.push(`SHA256SUMS 与清单不符：${path}（SHA256SUMS ${listed}；清单 ${sha}）`);
      }
      for (const path of sums.keys())
        if (!expected.has(path)) problems.push(`SHA256SUMS 多出：${path}（清单中没有）`);
    }

    // .gz siblings, as extracted.
    problems.push(...(await checkGzipSiblings(join(root, "site"), siteFiles, "site/")));

    // build.json against the manifest.
    const buildText = await readFile(join(root, "site", "build.json"), "utf-8").catch(() => null);
    if (buildText === null) problems.push("缺少文件：site/build.json");
    else {
      let build: BuildInfo | null = null;
      try {
        const b = BuildInfo.safeParse(JSON.parse(buildText));
        if (b.success) build = b.data;
        else
          problems.push(
            `site/build.json 格式不对：${b.error.issues.map((i) => i.path.join(".")).join("、")}`
          );
      } catch (error) {
        problems.push(`site/build.json 不是有效的 JSON：${(error as Error).message}`);
      }
      if (build) problems.push(...compareBuild(build, manifest));
    }
    return result();
  } finally {
    await rm(temp, {recursive: true, force: true});
  }
}

/** The report `npm run verify-release` prints. */
export function formatReport(archive: string, r: VerifyResult): string {
  const lines = [`校验发布包：${archive}`];
  for (const note of r.notes) lines.push(`  ${note}`);
  const m = r.manifest;
  if (m) {
    lines.push(
      `  版本：${m.id}（数据截至 ${m.as_of}，构建于 ${m.built_at}，提交 ${m.commit ?? "无"}${m.commit_dirty ? "，有未提交改动" : ""}）`,
      `  Framework ${m.versions.framework}，DuckDB-WASM ${m.versions.duckdb_wasm}；数据来源：${m.data.source}`,
      `  发布前页面检查：${m.page_check.status === "passed" ? `${m.page_check.pages} 个页面全部通过` : "未做（--no-check 构建）"}`,
      `  站点文件 ${m.totals.files} 个（${formatBytes(m.totals.bytes)}，其中 .gz ${m.totals.gzip_siblings} 个），数据文件 ${m.data.inputs.length} 个`
    );
  }
  if (r.ok) lines.push("结果：一致 ✔（所有文件与清单、SHA256SUMS 相符）");
  else {
    lines.push(`发现 ${r.problems.length} 处问题：`);
    for (const p of r.problems) lines.push(`  - ${p}`);
    lines.push("结果：不一致 ✘");
  }
  return lines.join("\n");
}

const USAGE = "用法：npm run verify-release -- <发布包.tar.gz>";

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const archive = args[0];
  if (args.length !== 1 || archive === undefined || archive.startsWith("-")) {
    console.error(USAGE);
    process.exit(2);
  }
  if (!(await lstat(archive).catch(() => null))?.isFile()) {
    console.error(`找不到发布包：${archive}\n${USAGE}`);
    process.exit(2);
  }
  try {
    const r = await verifyRelease(archive);
    console.log(formatReport(archive, r));
    process.exit(r.ok ? 0 : 1);
  } catch (error) {
    console.error(`[fundwatch] 校验出错：${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
