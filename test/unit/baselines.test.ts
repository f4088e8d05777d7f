// The benchmark's baselines must show the overview's figures: the Arrow export read with arquero and
// computed with arquero verbs (overviewArquero), and the precomputed JSON, against the overview's own
// logic (overviewFigures) on native DuckDB over the same database file, under the overview's filters.
import {mkdtemp, readFile, readdir, rm} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {DuckDBInstance, type DuckDBConnection, type DuckDBInstance as Instance} from "@duckdb/node-api";
import {tableFromIPC, Type} from "apache-arrow";
import * as aq from "arquero";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {exportArrow} from "../../bench/baselines/export-arrow.js";
import {
  ARQUERO_TABLES,
  filterChoicesArquero,
  fromArrow,
  loadArqueroTables,
  overviewArquero,
  type ArqueroTables
} from "../../bench/baselines/overview-arquero.js";
import {overviewJson, writeOverviewJson, type OverviewJson} from "../../bench/baselines/overview-json.js";
import {overviewFigures, type OverviewFigures} from "../../bench/overview-figures.js";
import {writeDuckDBFile} from "../../loaders/duckdb-file.js";
import {ingest} from "../../loaders/ingest.js";
import {generationTime, toTables} from "../../loaders/outputs.js";
import {formatMoney} from "../../src/format/money.js";
import {loadFilterChoices, type PageFilter} from "../../src/ui/page.js";
import type {SqlQuery} from "../../src/sql/template.js";

let dir: string;
let instance: Instance;
let conn: DuckDBConnection;
let tables: ArqueroTables;
let exported: {table: string; rows: number; bytes: number}[];

/** A `db` for the SDK over native DuckDB, binding the query's parameters (as in metrics.test.ts). */
const nativeDb = () => ({
  async query(q: SqlQuery) {
    const reader = await conn.runAndReadAll(q.text, q.params as never);
    return reader.getRowObjectsJS() as Record<string, unknown>[];
  }
});

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fundwatch-baselines-"));
  const result = await ingest([join(import.meta.dirname, "..", "..", "data", "ningxia")], {
    today: "2024-12-31"
  });
  const file = join(dir, "fundwatch.duckdb");
  await writeDuckDBFile(file, toTables(result, {source: "baselines", generatedAt: generationTime()}));
  exported = await exportArrow(file, join(dir, "arrow"));
  tables = await loadArqueroTables(
    async (name) => new Uint8Array(await readFile(join(dir, "arrow", `${name}.arrow`)))
  );
  instance = await DuckDBInstance.create(":memory:");
  conn = await instance.connect();
  await conn.run(`ATTACH '${file}' AS data (READ_ONLY); USE data`);
}, 120_000);
afterAll(async () => {
  conn?.closeSync();
  instance?.closeSync();
  await rm(dir, {recursive: true, force: true});
});

/** Integers, codes, ranks and flags exactly; ratios (coverage, KPI values, scores) to 1e-9. */
function expectSameFigures(actual: OverviewFigures, expected: OverviewFigures): void {
  const close = (a: number | null | undefined, b: number | null | undefined, what: string): void => {
    if (a == null || b == null) expect(a ?? null, what).toBe(b ?? null);
    else expect(a, what).toBeCloseTo(b, 9);
  };
  const withoutFloats = (f: OverviewFigures) => ({
    ...f,
    kpi: Object.fromEntries(
      Object.entries(f.kpi).map(([k, p]) => [k, p && {numerator: p.numerator, denominator: p.denominator}])
    ),
    progress: f.progress.map((r) => ({code: r.code, week_ending: r.week_ending, null: r.coverage === null})),
    ranking: f.ranking.map((r) => ({code: r.code, rank: r.rank, lagging: r.lagging, null: r.score === null}))
  });
  expect(withoutFloats(actual)).toEqual(withoutFloats(expected));
  for (const [k, p] of Object.entries(expected.kpi))
    close(actual.kpi[k as keyof OverviewFigures["kpi"]]?.value, p?.value, `kpi ${k}`);
  expected.progress.forEach((r, i) =>
    close(actual.progress[i]?.coverage, r.coverage, `coverage ${r.code} ${r.week_ending}`)
  );
  expected.ranking.forEach((r, i) => close(actual.ranking[i]?.score, r.score, `score ${r.code}`));
}

const FILTERS: [string, PageFilter][] = [
  ["no filter", {}],
  ...["640100", "640200", "640300", "640400", "640500"].map((c): [string, PageFilter] => [
    `city ${c}`,
    {within: c}
  ]),
  ["a date range", {from: "2024-06-01", to: "2024-08-15"}],
  ["institution kinds", {institutionKinds: ["医院", "零售药店"]}],
  ["inspection kinds", {inspectionKinds: ["专项检查", "飞行检查", "自查自纠"]}],
  ["a campaign", {campaign: "ZX2024"}],
  [
    "a city, dates and kinds together",
    {within: "640300", from: "2024-07-01", institutionKinds: ["诊所", "医院"]}
  ]
];

describe("the Arrow export", () => {
  it("writes one file per table the overview reads, only the columns it uses", async () => {
    expect(exported.map((e) => e.table)).toEqual([...ARQUERO_TABLES]);
    expect((await readdir(join(dir, "arrow"))).sort()).toEqual(
      ARQUERO_TABLES.map((t) => `${t}.arrow`).sort()
    );
    for (const e of exported) {
      const rows = await conn.runAndReadAll(`SELECT count(*) AS n FROM "${e.table}"`);
      expect(e.rows, e.table).toBe(Number(rows.getRowObjectsJS()[0]!.n));
      expect(e.bytes).toBe((await readFile(join(dir, "arrow", `${e.table}.arrow`))).byteLength);
    }
    const dispositions = tableFromIPC(await readFile(join(dir, "arrow", "dispositions.arrow")));
    expect(dispositions.schema.fields.map((f) => f.name)).toEqual([
      "finding_id",
      "inspection_id",
      "action",
      "amount",
      "decided_on",
      "reported_on"
    ]);
    const type = (name: string) => dispositions.schema.fields.find((f) => f.name === name)!.type;
    expect(type("amount").typeId).toBe(Type.Int);
    expect((type("amount") as unknown as {bitWidth: number}).bitWidth).toBe(64);
    expect(type("decided_on").typeId).toBe(Type.Dictionary);
  });

  it("keeps money exact: arquero reads integer fen as numbers whose sums match DuckDB's to the fen", async () => {
    const amounts = tables.dispositions.array("amount") as unknown[];
    expect(amounts.every((v) => v === null || Number.isSafeInteger(v))).toBe(true);
    const sum = amounts.reduce<number>((s, v) => s + ((v as number | null) ?? 0), 0);
    const sql = await conn.runAndReadAll("SELECT sum(amount) AS s FROM dispositions");
    expect(BigInt(sum)).toBe(BigInt(sql.getRowObjectsJS()[0]!.s as bigint));
    expect(tables.inspections.array("date")[0]).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it("loads into arquero tables equal to aq.fromArrow's (which the pages cannot import)", async () => {
    for (const name of ARQUERO_TABLES) {
      const bytes = new Uint8Array(await readFile(join(dir, "arrow", `${name}.arrow`)));
      expect(fromArrow(bytes).objects(), name).toEqual(aq.fromArrow(bytes).objects());
      expect(tables[name].numRows()).toBe(aq.fromArrow(bytes).numRows());
    }
  });

  it("gives the filter bar the same choices as the database", async () => {
    expect(filterChoicesArquero(tables)).toEqual(await loadFilterChoices(nativeDb()));
  });
});

describe("overviewArquero", () => {
  it.each(FILTERS)("gives the overview's figures with %s", async (_, filter) => {
    const expected = await overviewFigures(nativeDb(), filter);
    expectSameFigures(overviewArquero(tables, filter), expected);
    expect(expected.recovery.length).toBeGreaterThan(0);
    expect(expected.ranking.length).toBeGreaterThan(0);
  });

  it("is checked on figures that differ by filter, and on the published total", async () => {
    const all = overviewArquero(tables, {});
    expect(formatMoney(all.kpi.recovery_total!.numerator)).toBe("1,699.40万元");
    expect(all.progress.length).toBeGreaterThan(0);
    for (const [name, filter] of FILTERS.slice(1))
      expect(overviewArquero(tables, filter).kpi, name).not.toEqual(all.kpi);
  });

  it("refuses what the SDK refuses: an empty kind list, a malformed date, an unknown campaign", async () => {
    for (const filter of [
      {institutionKinds: []},
      {from: "2024/06/01"},
      {campaign: "不存在"}
    ] as PageFilter[]) {
      const error = await overviewFigures(nativeDb(), filter).catch((e: unknown) => e);
      expect(error, JSON.stringify(filter)).toBeInstanceOf(Error);
      expect(() => overviewArquero(tables, filter)).toThrow((error as Error).message);
    }
  });
});

describe("the precomputed JSON", () => {
  it("holds the figures of the province and of every city, and the lookups the page needs", async () => {
    const file = join(dir, "json", "overview.json");
    const written = await writeOverviewJson(nativeDb(), file);
    const json = JSON.parse(await readFile(file, "utf8")) as OverviewJson;
    expect(written.scopes).toEqual(["", "640100", "640200", "640300", "640400", "640500"]);
    expect(Object.keys(json.figures).sort()).toEqual(written.scopes);
    expect(json).toEqual(await overviewJson(nativeDb()));
    for (const scope of written.scopes)
      expectSameFigures(overviewArquero(tables, scope ? {within: scope} : {}), json.figures[scope]!);
    expect(json.choices.cities.map((c) => c.code)).toEqual(written.scopes.slice(1));
    expect(json.divisions.find((d) => d.code === "640100")?.name).toBe("银川市");
    expect(json.campaigns.map((c) => c.id)).toEqual(["ZX2024"]);
  });
});
