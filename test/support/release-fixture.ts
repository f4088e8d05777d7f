/**
 * Small fixture sites for the release, install and load tests: a few pages, hashed assets under
 * _observablehq/ _import/ _file/ _node/, `.gz` siblings and a build.json of the build's shape.
 * `version: "B"` is the next build of the same site: a changed data file (so a different hashed
 * name), a changed overview page, and a later build time.
 */
import {createHash} from "node:crypto";
import {mkdir, writeFile} from "node:fs/promises";
import {dirname, join} from "node:path";
import {gzipSync} from "node:zlib";

export const FIXTURE_COMMIT = "7ef3fa3c0ffee0123456789abcdef0123456789a";

export const BUILT_AT = {A: "2026-11-30T05:40:00.000Z", B: "2026-12-07T05:40:00.000Z"} as const;

/** An exception an administrator accepted in the fixture's build: the release manifest must carry it. */
export const FIXTURE_GATES = {
  status: "accepted",
  failures: [
    {
      gate: "division-silent",
      subject: "原州区（640402）",
      message:
        "区划没有数据：原州区（640402）上次发布时有 390 行记录，这次没有任何记录（是否缺了这个地区的文件？）"
    }
  ],
  accepted_reason: "固原市本周因系统升级未报送，经电话核实",
  previous_built_at: "2026-11-23T05:40:00.000Z",
  config_file: "fundwatch.checks.json"
};

export function fixtureBuildJson(version: "A" | "B", dataSha: string, builtAt?: string): object {
  return {
    format: 1,
    built_at: builtAt ?? BUILT_AT[version],
    commit: FIXTURE_COMMIT,
    commit_dirty: false,
    versions: {framework: "1.13.4", duckdb_wasm: "1.32.0", node: "v20.20.2"},
    data: {
      as_of: "2024-09-27",
      source: "宁夏回族自治区医保局（测试数据）",
      generated_at: "2026-11-30T05:39:00.000Z",
      inputs: [
        {
          file: "inspections.csv",
          dataset: "inspections",
          sha256: dataSha,
          rows_read: 123,
          rows_loaded: 120,
          rows_rejected: 3,
          rows_skipped: 0
        }
      ],
      gates: FIXTURE_GATES
    },
    page_check: {status: "passed", pages: 3},
    loaders: {rerun: true, reasons: ["没有上次成功构建的记录"]}
  };
}

/** The data file's hashed name in each version. */
export const DATA_FILE = {
  A: "_file/data/fundwatch.2222bbbb.duckdb",
  B: "_file/data/fundwatch.4444dddd.duckdb"
} as const;

/**
 * Writes a fixture site into `dir`; returns its files (relative paths). A has a page B has not
 * (`retired.html`, not under a hashed folder, so install.sh must not carry it over).
 */
export async function writeFixtureSite(
  dir: string,
  version: "A" | "B" = "A",
  options: {builtAt?: string} = {}
): Promise<string[]> {
  const data = DATA_FILE[version];
  const page = (title: string, extra = ""): string =>
    `<!doctype html>\n<html lang="zh-CN">\n<head><link rel="stylesheet" href="./_import/style.1111aaaa.css"></head>\n` +
    `<body><h1>${title}</h1><p>数据截至 2024年9月27日</p>${extra}\n` +
    `<script type="module">registerFile("./data/fundwatch.duckdb", {"path": "./${data}"});</script>\n` +
    "<!-- " +
    "padding so that gzip pays off ".repeat(20) +
    "-->\n</body>\n</html>\n";
  const files: Record<string, string | Buffer> = {
    "index.html": page("总览", version === "B" ? "<p>第二版：新增本周数据</p>" : ""),
    "districts.html": page("地区对比"),
    "district/640100.html": page("银川市"),
    "404.html": page("找不到页面"),
    "briefing.json": JSON.stringify({file: null, skipped: "已按要求跳过（FUNDWATCH_BRIEFING=0）"}),
    "_observablehq/client.0123abcd.js": "export const client = 1;\n".repeat(40),
    "_import/style.1111aaaa.css": "body { font-family: sans-serif; }\n".repeat(40),
    "_node/d3@7.9.2/index.3333cccc.js": "export const d3 = 'd3';\n".repeat(40),
    "_node/@duckdb/duckdb-wasm@1.32.0/dist/duckdb-eh.wasm": Buffer.concat([
      Buffer.from("\0asm\x01\0\0\0", "latin1"),
      Buffer.alloc(4096, 7)
    ]),
    [data]: Buffer.from(`DUCK ${version} `.repeat(500))
  };
  if (version === "A") files["retired.html"] = page("已下线的页面");
  const dataSha = createHash("sha256")
    .update(files[data] as Buffer)
    .digest("hex");
  files["build.json"] = JSON.stringify(fixtureBuildJson(version, dataSha, options.builtAt), null, 2) + "\n";
  for (const name of [
    "index.html",
    "districts.html",
    "_observablehq/client.0123abcd.js",
    "_import/style.1111aaaa.css"
  ])
    files[`${name}.gz`] = gzipSync(files[name] as string);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), {recursive: true});
    await writeFile(join(dir, path), content);
  }
  return Object.keys(files).sort();
}

/** One ustar entry: a file (content), a folder (name ending in /) or a symbolic link. */
export interface RawEntry {
  name: string;
  content?: string;
  symlink?: string;
}

/** A `.tar.gz` written byte by byte, to make archives GNU tar would refuse to create (`../evil`). */
export function rawTarGz(entries: RawEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const body = Buffer.from(entry.content ?? "");
    const header = Buffer.alloc(512);
    const put = (text: string, at: number, length: number): void => {
      header.write(text, at, length, "utf-8");
    };
    const type = entry.symlink !== undefined ? "2" : entry.name.endsWith("/") ? "5" : "0";
    put(entry.name, 0, 100);
    put(type === "5" ? "0000755\0" : "0000644\0", 100, 8);
    put("0000000\0", 108, 8);
    put("0000000\0", 116, 8);
    put(`${(type === "0" ? body.length : 0).toString(8).padStart(11, "0")}\0`, 124, 12);
    put(`${(1764481200).toString(8).padStart(11, "0")}\0`, 136, 12);
    put("        ", 148, 8);
    put(type, 156, 1);
    if (entry.symlink !== undefined) put(entry.symlink, 157, 100);
    put("ustar\0", 257, 6);
    put("00", 263, 2);
    let sum = 0;
    for (const byte of header) sum += byte;
    put(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8);
    blocks.push(header);
    if (type === "0") {
      blocks.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
    }
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}
