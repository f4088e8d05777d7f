// deploy/install.sh, run with bash on temporary folders, as the intranet server would run it.
import {spawn} from "node:child_process";
import {
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  stat,
  symlink,
  writeFile
} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {createRelease, type ReleaseResult} from "../../scripts/release.js";
import {DATA_FILE, rawTarGz, writeFixtureSite} from "../support/release-fixture.js";
import {repack} from "../support/repack.js";

const INSTALL = join(import.meta.dirname, "..", "..", "deploy", "install.sh");
let dir: string;
let base: string;
let a: ReleaseResult;
let b: ReleaseResult;
const quiet = (): void => {};

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function install(archive: string, to = base): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn("bash", [INSTALL, archive, to], {stdio: ["ignore", "pipe", "pipe"]});
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("close", (code) => resolve({code, stdout, stderr}));
  });
}

async function makeRelease(name: string, version: "A" | "B", builtAt?: string): Promise<ReleaseResult> {
  const site = join(dir, "sites", name);
  await writeFixtureSite(site, version, builtAt === undefined ? {} : {builtAt});
  return createRelease({dist: site, out: join(dir, "out"), log: quiet});
}

const current = (): Promise<string> => readlink(join(base, "current"));
const releases = async (): Promise<string[]> => (await readdir(join(base, "releases"))).sort();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fundwatch-install-"));
  base = join(dir, "srv", "fundwatch");
  a = await makeRelease("a", "A");
  b = await makeRelease("b", "B");
});
afterAll(async () => {
  await rm(dir, {recursive: true, force: true});
});

describe("deploy/install.sh", () => {
  it("installs a first release and points current at it", async () => {
    const run = await install(a.archive);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("传输校验通过");
    expect(run.stdout).toContain(`安装完成：${a.id}（数据截至 2024-09-27）`);
    expect(await current()).toBe(`releases/${a.id}`);
    expect(await releases()).toEqual([a.id]);
    const index = await readFile(join(base, "current", "site", "index.html"), "utf-8");
    expect(index).toContain("<h1>总览</h1>");
    // Readable by nginx's unprivileged worker.
    expect((await stat(join(base, "current", "site", DATA_FILE.A))).mode & 0o004).toBe(0o004);
    expect((await readdir(base)).sort()).toEqual(["current", "releases"]);
  });

  it("swaps current atomically to a second release and carries the old hashed assets over", async () => {
    // A reader polls the current overview page for the whole install: it must never miss it.
    let reads = 0;
    const seen = new Set<string>();
    const failures: string[] = [];
    let stop = false;
    const reader = (async () => {
      while (!stop) {
        try {
          const text = await readFile(join(base, "current", "site", "index.html"), "utf-8");
          seen.add(text.includes("第二版") ? "B" : "A");
          ++reads;
        } catch (error) {
          failures.push((error as Error).message);
        }
        await new Promise((r) => setImmediate(r));
      }
    })();
    const run = await install(b.archive);
    stop = true;
    await reader;
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(failures).toEqual([]);
    expect(reads).toBeGreaterThan(0);
    expect(seen.has("A")).toBe(true);
    expect(await current()).toBe(`releases/${b.id}`);
    expect(run.stdout).toContain(`已切换：current → releases/${b.id}（原为 ${a.id}）`);
    expect((await lstat(join(base, "current"))).isSymbolicLink()).toBe(true);
    expect((await readdir(base)).sort()).toEqual(["current", "releases"]); // no current.tmp, no lock

    const siteB = join(base, "current", "site");
    // B's own files are B's: the changed page was not overwritten.
    expect(await readFile(join(siteB, "index.html"), "utf-8")).toContain("第二版");
    expect(await readFile(join(siteB, DATA_FILE.B), "utf-8")).toMatch(/^DUCK B /);
    // A's data file, under _file/ with a hashed name, is carried over byte for byte…
    expect(await readFile(join(siteB, DATA_FILE.A))).toEqual(
      await readFile(join(base, "releases", a.id, "site", DATA_FILE.A))
    );
    expect(await readFile(join(base, "releases", b.id, "CARRIED_OVER"), "utf-8")).toBe(
      `site/${DATA_FILE.A}\n`
    );
    // …a page only A had is not (it is not under a hashed folder).
    expect(await stat(join(siteB, "retired.html")).catch(() => null)).toBeNull();
    expect(await releases()).toEqual([a.id, b.id].sort());
  });

  it("re-installs the same release without changing anything", async () => {
    const before = await readFile(join(base, "current", "site", "index.html"));
    const run = await install(b.archive);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("已安装且校验通过，直接复用");
    expect(run.stdout).toContain("无需切换");
    expect(await current()).toBe(`releases/${b.id}`);
    expect(await readFile(join(base, "current", "site", "index.html"))).toEqual(before);
    expect(await releases()).toEqual([a.id, b.id].sort());
  });

  it("leaves current alone and removes the partial release when a file does not match SHA256SUMS", async () => {
    const c = await makeRelease("c", "B", "2026-12-14T05:40:00.000Z");
    const corrupted = join(dir, "corrupted", `${c.id}.tar.gz`);
    await mkdir(join(dir, "corrupted"));
    await repack(c.archive, corrupted, async (top) => {
      await writeFile(join(top, "site", "districts.html"), "<p>传输中损坏</p>");
    });
    const run = await install(corrupted);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`没有找到 ${corrupted}.sha256`);
    expect(run.stderr).toContain("site/districts.html: FAILED");
    expect(run.stderr).toContain(
      `安装失败：文件校验失败，已删除未完成的安装 ${c.id}；current 未改动（仍指向 ${b.id}）`
    );
    expect(await current()).toBe(`releases/${b.id}`);
    expect(await releases()).toEqual([a.id, b.id].sort()); // no releases/<c>, no .staging-*
    expect((await readdir(base)).sort()).toEqual(["current", "releases"]);
  });

  it("refuses an archive that does not match its sidecar, and one with ../ in it", async () => {
    const c = await makeRelease("c2", "B", "2026-12-15T05:40:00.000Z");
    const copy = join(dir, "truncated.tar.gz");
    const bytes = await readFile(c.archive);
    await writeFile(copy, bytes.subarray(0, bytes.length - 100));
    await writeFile(`${copy}.sha256`, await readFile(c.sidecar));
    const truncated = await install(copy);
    expect(truncated.code).toBe(1);
    expect(truncated.stderr).toContain("发布包与校验文件不符（传输不完整或已损坏）");

    const evil = join(dir, "evil.tar.gz");
    await writeFile(
      evil,
      rawTarGz([
        {name: "fundwatch-x/"},
        {name: "fundwatch-x/SHA256SUMS", content: ""},
        {name: "../evil", content: "x"}
      ])
    );
    const run = await install(evil);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("安装失败：发布包含有 ..，拒绝安装：../evil");
    expect(await stat(join(base, "evil")).catch(() => null)).toBeNull();
    expect(await stat(join(base, "releases", "evil")).catch(() => null)).toBeNull();
    expect(await current()).toBe(`releases/${b.id}`);
  });

  const daily: ReleaseResult[] = [];
  it("keeps only the last 5 releases, never the current one", async () => {
    const ids: string[] = [b.id];
    for (let day = 1; day <= 5; ++day) {
      const r = await makeRelease(`d${day}`, "B", `2027-01-0${day}T05:40:00.000Z`);
      const run = await install(r.archive);
      expect(run.code).toBe(0);
      ids.push(r.id);
      daily.push(r);
    }
    const last = ids.at(-1)!;
    expect(await current()).toBe(`releases/${last}`);
    // A and B were installed first: the five most recent remain.
    expect(await releases()).toEqual(ids.slice(-5).sort());

    // Rolled back by hand to the oldest kept release, then a new install: the new one is current and
    // kept; the rolled-back one, no longer current and now the sixth, goes.
    const oldest = ids.at(-5)!;
    await rm(join(base, "current"));
    await symlink(`releases/${oldest}`, join(base, "current"));
    const next = await makeRelease("d6", "B", "2027-01-06T05:40:00.000Z");
    const run = await install(next.archive);
    expect(run.code).toBe(0);
    expect(await current()).toBe(`releases/${next.id}`);
    expect(await releases()).toEqual([...ids.slice(-4), next.id].sort());
  });

  it("re-installs a release whose installed files were damaged, restoring them", async () => {
    const d5 = daily.at(-1)!;
    expect(await current()).not.toBe(`releases/${d5.id}`);
    const page = join(base, "releases", d5.id, "site", "index.html");
    const good = await readFile(page);
    await writeFile(page, "<p>被人改过</p>");
    const run = await install(d5.archive);
    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain("直接复用");
    expect(run.stdout).toContain("文件校验通过");
    expect(await readFile(page)).toEqual(good);
    expect(await current()).toBe(`releases/${d5.id}`);
  });

  it("says how to call it", async () => {
    const run = await new Promise<Run>((resolve) => {
      const child = spawn("bash", [INSTALL], {stdio: ["ignore", "pipe", "pipe"]});
      let stderr = "";
      child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
      child.on("close", (code) => resolve({code, stdout: "", stderr}));
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("用法：install.sh <发布包.tar.gz>");
    const missing = await install(join(dir, "nope.tar.gz"));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("找不到发布包");
  });
});
