// The seeded generator of the default dataset: the committed data/ningxia is what it makes, every bad
// row planted on purpose is rejected with its rule and nothing else is, and the data has real gaps.
import {mkdtemp, readdir, readFile, rm} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {ingest, type IngestResult} from "../../loaders/ingest.js";
import {generate, NINGXIA} from "../../scripts/gen-data.js";

const ROOT = join(import.meta.dirname, "..", "..");
const COMMITTED = join(ROOT, "data", "ningxia");
let dir: string;
let committed: IngestResult;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fundwatch-gen-"));
  committed = await ingest([COMMITTED], {today: "2024-12-31"});
});
afterAll(async () => {
  await rm(dir, {recursive: true, force: true});
});

const snapshot = (r: IngestResult) =>
  JSON.stringify({t: [...r.tables.entries()], rej: r.rejects, w: r.warnings, f: r.files}, (_, v) =>
    typeof v === "bigint" ? `${v}n` : v
  );

describe("npm run gen:data", () => {
  it("made the committed default data, byte for byte (XLSX included)", async () => {
    const out = join(dir, "default");
    await generate({rows: 6000, seed: 20240515, out, format: "mixed"});
    const names = (await readdir(out)).sort();
    expect(names).toEqual((await readdir(COMMITTED)).filter((n) => !n.endsWith(".md")).sort());
    for (const name of names) {
      expect((await readFile(join(out, name))).equals(await readFile(join(COMMITTED, name))), name).toBe(
        true
      );
    }
    expect(snapshot(await ingest([out], {today: "2024-12-31"}))).toBe(snapshot(committed));
  });
  it("writes the forms districts send: GBK CSV with a title row, XLSX with titles, 万元 headers", () => {
    const encodings = new Set(committed.files.map((f) => f.encoding ?? f.format));
    expect([...encodings].sort()).toEqual(["gb18030", "utf-8", "xlsx"]);
    expect(committed.files.some((f) => f.format === "csv" && f.header_line > 1)).toBe(true);
    expect(committed.files.some((f) => f.format === "xlsx" && f.header_line > 2)).toBe(true);
    expect(committed.files.filter((f) => f.rows_skipped > 0).length).toBeGreaterThan(0);
  });
  it("rejects exactly the bad rows planted on purpose, each with its rule", () => {
    expect(committed.rejects.map((r) => [r.file.replace(/^.*_/, ""), r.rule]).sort()).toEqual(
      [
        ["周报.csv", "invalid-division_code"],
        ["处理结果.csv", "money-action-has-amount"],
        ["检查记录.csv", "duplicate-key"],
        ["检查记录.csv", "unknown-institution"],
        ["检查记录.csv", "invalid-date"],
        ["检查记录.csv", "date-outside-campaign"],
        ["违规问题.csv", "invalid-amount_involved"],
        ["违规问题.csv", "required"],
        ["违规问题.csv", "invalid-category"]
      ].sort()
    );
    for (const f of committed.files) expect(f.rows_read, f.file).toBe(f.rows_loaded + f.rows_rejected);
  });
  it("keeps Chinese text intact (no mojibake) through GBK and XLSX", () => {
    const names = new Set(NINGXIA.map((p) => p.name));
    for (const d of committed.tables.get("divisions")!) expect(names).toContain(d.name);
    for (const i of committed.tables.get("institutions")!)
      expect(String(i.name)).toMatch(/^[\u4e00-\u9fff（）()0-9A-Za-z·-]+$/);
  });
  it("has skew and gaps like real data: some districts lag far behind others", () => {
    const institutions = committed.tables.get("institutions")!;
    const divisionOf = new Map(institutions.map((i) => [i.code, String(i.division_code)]));
    const total = new Map<string, number>();
    for (const i of institutions)
      total.set(String(i.division_code), (total.get(String(i.division_code)) ?? 0) + 1);
    const inspected = new Map<string, Set<unknown>>();
    for (const s of committed.tables.get("inspections")!) {
      const d = divisionOf.get(s.institution_code) ?? "";
      inspected.set(d, (inspected.get(d) ?? new Set()).add(s.institution_code));
    }
    const coverage = [...total].map(([d, n]) => (inspected.get(d)?.size ?? 0) / n);
    expect(Math.min(...coverage)).toBeLessThan(0.7);
    expect(Math.max(...coverage)).toBeGreaterThan(0.95);
  });
});

describe("npm run gen:data -- --format csv (benchmark sizes)", () => {
  it("writes plain UTF-8 CSV that loads with nothing rejected, N inspection and finding rows in all", async () => {
    const out = join(dir, "bench");
    const counts = await generate({rows: 3000, seed: 7, out, format: "csv"});
    expect(counts.inspections + counts.findings).toBe(3000);
    const result = await ingest([out], {today: "2024-12-31"});
    expect(result.rejects).toEqual([]);
    expect(result.tables.get("inspections")).toHaveLength(counts.inspections);
    expect(result.tables.get("findings")).toHaveLength(counts.findings);
    const again = join(dir, "bench2");
    await generate({rows: 3000, seed: 7, out: again, format: "csv"});
    for (const name of await readdir(out))
      expect((await readFile(join(out, name))).equals(await readFile(join(again, name))), name).toBe(true);
  });
});
