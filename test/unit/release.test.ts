import {execFileSync, spawnSync} from "node:child_process";
import {createHash} from "node:crypto";
import {cp, mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {gzipSync} from "node:zlib";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {
  compactTime,
  createRelease,
  releaseId,
  sha256sums,
  type Manifest,
  type ReleaseResult
} from "../../scripts/release.js";
import {checkEntries, listTarGz, verifyRelease} from "../../scripts/verify-release.js";
import {FIXTURE_COMMIT, FIXTURE_GATES, rawTarGz, writeFixtureSite} from "../support/release-fixture.js";
import {repack} from "../support/repack.js";

const ROOT = join(import.meta.dirname, "..", "..");
const ID = "fundwatch-2024-09-27-20261130T054000Z-7ef3fa3";
const sha = (data: string | Buffer): string => createHash("sha256").update(data).digest("hex");

let dir: string;
let site: string;
let nginxDir: string;
let release: ReleaseResult;
const quiet = (): void => {};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fundwatch-release-"));
  site = join(dir, "dist");
  await writeFixtureSite(site, "A");
  nginxDir = join(dir, "nginx");
  await mkdir(nginxDir);
  await writeFile(join(nginxDir, "fundwatch-http.conf"), "# http\n");
  await writeFile(join(nginxDir, "fundwatch-location.conf"), "# location\n");
  release = await createRelease({dist: site, out: join(dir, "out"), nginxDir, log: quiet});
});
afterAll(async () => {
  await rm(dir, {recursive: true, force: true});
});

/** Extracts an archive into a new folder; returns the top folder. */
async function extract(archive: string): Promise<string> {
  const to = await mkdtemp(join(dir, "x-"));
  execFileSync("tar", ["-xzmf", archive, "-C", to]);
  const [top] = await readdir(to);
  return join(to, top!);
}

describe("createRelease", () => {
  it("names the archive after the as-of date, the build time and the commit", () => {
    expect(compactTime("2026-11-30T05:40:00.000Z")).toBe("20261130T054000Z");
    expect(release.id).toBe(ID);
    expect(release.archive).toBe(join(dir, "out", `${ID}.tar.gz`));
    expect(
      releaseId({
        ...JSON.parse('{"data":{"as_of":"2024-09-27"}}'),
        built_at: "2026-11-30T05:40:00Z",
        commit: null
      })
    ).toBe("fundwatch-2024-09-27-20261130T054000Z-nocommit");
  });

  it("writes one archive with the manifest, SHA256SUMS, the site, nginx/, install.sh and INSTALL.md", async () => {
    const entries = await listTarGz(release.archive);
    const names = entries.map((e) => e.name);
    expect(names.every((n) => n.startsWith(`${ID}/`))).toBe(true);
    for (const name of [
      "manifest.json",
      "SHA256SUMS",
      "install.sh",
      "INSTALL.md",
      "nginx/fundwatch-http.conf"
    ])
      expect(names).toContain(`${ID}/${name}`);
    expect(names).toContain(`${ID}/site/_file/data/fundwatch.2222bbbb.duckdb`);
    const installSh = entries.find((e) => e.name === `${ID}/install.sh`);
    expect(installSh?.size).toBe((await stat(join(ROOT, "deploy", "install.sh"))).size);
    // Every entry owned by 0:0, stamped with the build time (GNU tar's listing).
    const listing = execFileSync("tar", ["-tvzf", release.archive], {
      encoding: "utf-8",
      env: {...process.env, TZ: "UTC"}
    });
    for (const line of listing.trim().split("\n")) expect(line).toMatch(/ 0\/0 +\d+ 2026-11-30 05:40 /);
    expect(listing).toMatch(/^-rwxr-xr-x .*\/install\.sh$/m);
  });

  it("lists every site file with its size and sha256 in the manifest, with the build's data", async () => {
    const top = await extract(release.archive);
    const manifest = JSON.parse(await readFile(join(top, "manifest.json"), "utf-8")) as Manifest;
    expect(manifest).toMatchObject({
      format: 1,
      id: ID,
      as_of: "2024-09-27",
      built_at: "2026-11-30T05:40:00.000Z",
      commit: FIXTURE_COMMIT,
      versions: {framework: "1.13.4", duckdb_wasm: "1.32.0"},
      data: {source: "宁夏回族自治区医保局（测试数据）"}
    });
    expect(manifest.data.inputs).toEqual([
      expect.objectContaining({file: "inspections.csv", rows_rejected: 3})
    ]);
    // An accepted exception to the completeness gates travels with the release, reason and all.
    expect(manifest.gates).toEqual(FIXTURE_GATES);
    const files = (await readdir(site, {recursive: true, withFileTypes: true})).filter((e) => e.isFile());
    expect(manifest.files.map((f) => f.path)).toEqual(
      files.map((e) => join(e.parentPath, e.name).slice(site.length + 1)).sort()
    );
    const index = manifest.files.find((f) => f.path === "index.html")!;
    const indexBytes = await readFile(join(site, "index.html"));
    expect(index).toEqual({path: "index.html", size: indexBytes.length, sha256: sha(indexBytes)});
    expect(manifest.totals).toEqual({
      files: files.length,
      bytes: manifest.files.reduce((s, f) => s + f.size, 0),
      gzip_siblings: 4
    });
  });

  it("writes SHA256SUMS that `sha256sum -c` accepts, and a sidecar that checks the archive", async () => {
    const top = await extract(release.archive);
    const check = spawnSync("sha256sum", ["-c", "--strict", "SHA256SUMS"], {cwd: top, encoding: "utf-8"});
    expect(check.stderr).toBe("");
    expect(check.status).toBe(0);
    const sums = await readFile(join(top, "SHA256SUMS"), "utf-8");
    expect(sums).toMatch(/^[0-9a-f]{64} {2}site\/index\.html$/m);
    expect(sums).toMatch(/^[0-9a-f]{64} {2}manifest\.json$/m);
    expect(sums.trim().split("\n")).toHaveLength(release.manifest.totals.files + 5);
    const sidecar = spawnSync("sha256sum", ["-c", `${ID}.tar.gz.sha256`], {
      cwd: join(dir, "out"),
      encoding: "utf-8"
    });
    expect(sidecar.stdout).toBe(`${ID}.tar.gz: OK\n`);
    expect(sha256sums([{path: "b", size: 1, sha256: "1".repeat(64)}])).toBe(`${"1".repeat(64)}  b\n`);
  });

  it("gives the same bytes for the same site, whatever the files' times and the folder", async () => {
    const copy = join(dir, "dist-copy");
    await cp(site, copy, {recursive: true});
    await utimes(join(copy, "index.html"), new Date(2001, 0, 1), new Date(2001, 0, 1));
    const again = await createRelease({dist: copy, out: join(dir, "out-again"), nginxDir, log: quiet});
    expect(again.archive).not.toBe(release.archive);
    expect((await readFile(again.archive)).equals(await readFile(release.archive))).toBe(true);
    expect(again.sha256).toBe(release.sha256);
    // And a changed byte gives another archive.
    await writeFile(join(copy, "briefing.json"), '{"file":null}');
    const changed = await createRelease({dist: copy, out: join(dir, "out-changed"), nginxDir, log: quiet});
    expect(changed.sha256).not.toBe(release.sha256);
  });

  it("leaves nothing behind but the archive and its sidecar", async () => {
    expect((await readdir(join(dir, "out"))).sort()).toEqual([`${ID}.tar.gz`, `${ID}.tar.gz.sha256`]);
  });

  it("refuses without dist/ or dist/build.json, saying to run the build", async () => {
    const empty = join(dir, "no-build-json");
    await cp(site, empty, {recursive: true});
    await rm(join(empty, "build.json"));
    await expect(createRelease({dist: empty, out: join(dir, "out-x"), log: quiet})).rejects.toThrow(
      /build\.json.*先运行 npm run build/
    );
    await expect(
      createRelease({dist: join(dir, "nope"), out: join(dir, "out-x"), log: quiet})
    ).rejects.toThrow(/先运行 npm run build/);
    await writeFile(join(empty, "build.json"), '{"format": 1}');
    await expect(createRelease({dist: empty, out: join(dir, "out-x"), log: quiet})).rejects.toThrow(
      /build\.json 格式不对.*先运行 npm run build/
    );
  });

  it("refuses a build whose pages were not checked (--no-check), unless told to allow it", async () => {
    const unchecked = join(dir, "unchecked");
    await cp(site, unchecked, {recursive: true});
    const info = JSON.parse(await readFile(join(unchecked, "build.json"), "utf-8")) as Record<
      string,
      unknown
    >;
    await writeFile(
      join(unchecked, "build.json"),
      JSON.stringify({...info, page_check: {status: "skipped", pages: 0}})
    );
    await expect(createRelease({dist: unchecked, out: join(dir, "out-u"), log: quiet})).rejects.toThrow(
      /没有经过发布前的页面检查.*先运行 npm run build/
    );
    const allowed = await createRelease({
      dist: unchecked,
      out: join(dir, "out-u"),
      nginxDir,
      allowUnchecked: true,
      log: quiet
    });
    expect(allowed.manifest.page_check).toEqual({status: "skipped", pages: 0});
    expect(release.manifest.page_check).toEqual({status: "passed", pages: 3});
  });

  it("refuses a site whose .gz is not its original's compression", async () => {
    const bad = join(dir, "bad-gz");
    await cp(site, bad, {recursive: true});
    await writeFile(join(bad, "index.html.gz"), gzipSync("<p>别的内容</p>"));
    await expect(createRelease({dist: bad, out: join(dir, "out-bad"), log: quiet})).rejects.toThrow(
      /dist\/index\.html\.gz/
    );
  });
});

describe("verifyRelease", () => {
  it("passes the archive as released, with the sidecar checked", async () => {
    const result = await verifyRelease(release.archive);
    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.manifest?.id).toBe(ID);
    expect(result.notes.join("\n")).toContain("整体校验通过");
  });

  it("names each changed, missing and added file, and a .gz that does not decompress to its original", async () => {
    const out = join(dir, "tampered", `${ID}.tar.gz`);
    await mkdir(join(dir, "tampered"));
    await repack(release.archive, out, async (top) => {
      await writeFile(join(top, "site", "districts.html"), "<p>被改过</p>");
      await rm(join(top, "site", "district", "640100.html"));
      await writeFile(join(top, "site", "extra.js"), "alert(1)");
      const gz = await readFile(join(top, "site", "_import", "style.1111aaaa.css.gz"));
      gz[gz.length - 6] = (gz[gz.length - 6]! + 1) % 256; // the CRC: gunzip fails
      await writeFile(join(top, "site", "_import", "style.1111aaaa.css.gz"), gz);
    });
    // The old sidecar no longer matches.
    await cp(release.sidecar, `${out}.sha256`);
    const result = await verifyRelease(out);
    expect(result.ok).toBe(false);
    const text = result.problems.join("\n");
    expect(text).toMatch(/发布包与校验文件不符/);
    expect(text).toMatch(
      /文件内容不符：site\/districts\.html（清单：sha256 [0-9a-f]{64}，\d+ 字节；实际：sha256 [0-9a-f]{64}，16 字节）/
    );
    expect(text).toMatch(/缺少文件：site\/district\/640100\.html/);
    expect(text).toMatch(/多出文件：site\/extra\.js/);
    expect(text).toMatch(/压缩文件无法解压：site\/_import\/style\.1111aaaa\.css\.gz/);
    // Nothing else is named.
    for (const line of result.problems)
      expect(line).toMatch(/districts\.html|640100\.html|extra\.js|style\.1111aaaa\.css\.gz|校验文件/);
  });

  it("finds a .gz that decompresses to other bytes even when the manifest and SHA256SUMS agree with it", async () => {
    const out = join(dir, "gz-mismatch.tar.gz");
    await repack(release.archive, out, async (top) => {
      const gz = gzipSync("<p>旧版本的页面</p>");
      await writeFile(join(top, "site", "index.html.gz"), gz);
      const manifest = JSON.parse(await readFile(join(top, "manifest.json"), "utf-8")) as Manifest;
      const entry = manifest.files.find((f) => f.path === "index.html.gz")!;
      Object.assign(entry, {size: gz.length, sha256: sha(gz)});
      manifest.totals.bytes = manifest.files.reduce((s, f) => s + f.size, 0);
      const text = JSON.stringify(manifest, null, 2) + "\n";
      await writeFile(join(top, "manifest.json"), text);
      const sums = (await readFile(join(top, "SHA256SUMS"), "utf-8"))
        .replace(/^[0-9a-f]{64}(?= {2}site\/index\.html\.gz$)/m, sha(gz))
        .replace(/^[0-9a-f]{64}(?= {2}manifest\.json$)/m, sha(text));
      await writeFile(join(top, "SHA256SUMS"), sums);
    });
    const result = await verifyRelease(out);
    expect(result.notes.join()).toContain("没有校验文件");
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toMatch(/^压缩文件解压后与原文件不同：site\/index\.html\.gz/);
  });

  it("finds a build.json that disagrees with the manifest, and SHA256SUMS lines that disagree", async () => {
    const out = join(dir, "build-json.tar.gz");
    await repack(release.archive, out, async (top) => {
      const path = join(top, "site", "build.json");
      const build = JSON.parse(await readFile(path, "utf-8")) as {data: {as_of: string}};
      build.data.as_of = "2024-10-31";
      await writeFile(path, JSON.stringify(build));
      await writeFile(
        join(top, "SHA256SUMS"),
        (await readFile(join(top, "SHA256SUMS"), "utf-8")).replace(/^.*site\/404\.html\n/m, "")
      );
    });
    const text = (await verifyRelease(out)).problems.join("\n");
    expect(text).toMatch(/文件内容不符：site\/build\.json/);
    expect(text).toMatch(
      /site\/build\.json 与清单不一致：数据截至日期 as_of（build\.json："2024-10-31"；清单："2024-09-27"）/
    );
    expect(text).toMatch(/SHA256SUMS 缺少：site\/404\.html/);
  });

  it("refuses to extract an archive with ../, an absolute path or a link leaving the top folder", async () => {
    const evil = join(dir, "evil.tar.gz");
    await writeFile(
      evil,
      rawTarGz([
        {name: `${ID}/`},
        {name: `${ID}/manifest.json`, content: "{}"},
        {name: "../evil", content: "pwned"}
      ])
    );
    const result = await verifyRelease(evil);
    expect(result.ok).toBe(false);
    expect(result.problems).toContain("不安全的条目（含 ..）：../evil");
    expect(result.problems).toContain("发布包不安全，未解压");
    expect(await stat(join(tmpdir(), "evil")).catch(() => null)).toBeNull();

    const entries = (names: Parameters<typeof rawTarGz>[0]) =>
      checkEntries(
        names.map((e) => ({
          name: e.name,
          type: e.symlink !== undefined ? "symlink" : e.name.endsWith("/") ? "dir" : "file",
          linkname: e.symlink ?? "",
          size: 0
        }))
      );
    expect(entries([{name: "/etc/cron.d/x", content: ""}]).problems).toEqual([
      "不安全的条目（绝对路径）：/etc/cron.d/x"
    ]);
    expect(entries([{name: `${ID}/site/a`, symlink: "../../../etc/passwd"}]).problems).toEqual([
      `不安全的条目（链接指向包外）：${ID}/site/a → ../../../etc/passwd`
    ]);
    expect(
      entries([
        {name: `${ID}/a`, content: ""},
        {name: "other/b", content: ""}
      ]).problems[0]
    ).toMatch(/只有一个顶层目录/);
    // The tar reader sees what GNU tar would extract: a symlink made by rawTarGz is listed as one.
    const link = join(dir, "link.tar.gz");
    await writeFile(link, rawTarGz([{name: `${ID}/`}, {name: `${ID}/site`, symlink: "/etc"}]));
    expect((await verifyRelease(link)).problems).toContain(`不安全的条目（链接指向包外）：${ID}/site → /etc`);
  });

  it("says when the archive is not a tar.gz at all", async () => {
    const junk = join(dir, "junk.tar.gz");
    await writeFile(junk, "not gzip");
    const result = await verifyRelease(junk);
    expect(result.ok).toBe(false);
    expect(result.problems[0]).toMatch(/^无法读取发布包/);
  });
});

describe("npm run verify-release", () => {
  const cli = (...args: string[]) =>
    spawnSync(
      join(ROOT, "node_modules", ".bin", "tsx"),
      [join(ROOT, "scripts", "verify-release.ts"), ...args],
      {
        encoding: "utf-8"
      }
    );
  it("exits 0 with a report when everything matches, 1 when not, 2 on a usage error", async () => {
    const ok = cli(release.archive);
    expect(ok.stdout).toContain("结果：一致 ✔");
    expect(ok.status).toBe(0);
    const bad = cli(join(dir, "gz-mismatch.tar.gz"));
    expect(bad.stdout).toMatch(/发现 1 处问题：\n {2}- 压缩文件解压后与原文件不同：site\/index\.html\.gz/);
    expect(bad.status).toBe(1);
    expect(cli().status).toBe(2);
    expect(cli(join(dir, "missing.tar.gz")).status).toBe(2);
  }, 60_000); // four runs of the command through tsx: seconds each on a busy two-core machine
});
