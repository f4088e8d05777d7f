/**
 * `npm run gen:data -- [--rows N] [--seed S] [--out DIR] [--format mixed|csv]`
 *
 * Generates a realistic campaign for Ningxia (宁夏回族自治区): its five cities and their counties with
 * real GB/T 2260 codes, 宁东能源化工基地 and 银川市本级 as non-division units, designated institutions,
 * inspections, findings, dispositions and weekly reports, with skew and gaps like real data (some
 * districts lag; a few big cases are reported late). N is the number of inspection + finding rows.
 *
 * `--format mixed` (the default data) writes the forms districts send: UTF-8 and GBK CSV, XLSX with
 * merged title rows and a two-row header, amounts in 万元, names instead of codes, and a few bad rows
 * on purpose. `--format csv` streams plain UTF-8 CSV, one file per dataset, for benchmark sizes (5M).
 * The same seed always gives the same files.
 */
import {once} from "node:events";
import {createWriteStream, type WriteStream} from "node:fs";
import {mkdir, rm, writeFile} from "node:fs/promises";
import {join} from "node:path";
import {fileURLToPath} from "node:url";
import ExcelJS from "exceljs";
import {fixZipTimestamps} from "./zip-time.js";

const FIXED_DATE = new Date("2024-01-01T00:00:00Z");
import {csvFormatRows} from "d3";
import {
  campaigns,
  dispositions,
  divisions,
  findings,
  inspections,
  institutions,
  weeklyReports
} from "../src/schema/index.js";
import type {Dataset} from "../src/schema/dataset.js";

/** Deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Place {
  code: string;
  name: string;
  parent: string | null;
  level: "省" | "市" | "县";
  kind: "行政区划" | "功能区" | "市本级";
  /** How diligently the unit inspects (share of institutions inspected by the as-of date). */
  pace?: number;
  aliases?: string;
}

/** Ningxia's divisions (GB/T 2260) plus the units that report beside them. */
export const NINGXIA: Place[] = [
  {code: "640000", name: "宁夏回族自治区", parent: null, level: "省", kind: "行政区划"},
  {code: "640100", name: "银川市", parent: "640000", level: "市", kind: "行政区划"},
  {
    code: "640104",
    name: "兴庆区",
    parent: "640100",
    level: "县",
    kind: "行政区划",
    pace: 0.52,
    aliases: "兴庆"
  },
  {code: "640105", name: "西夏区", parent: "640100", level: "县", kind: "行政区划", pace: 0.86},
  {code: "640106", name: "金凤区", parent: "640100", level: "县", kind: "行政区划", pace: 0.9},
  {code: "640121", name: "永宁县", parent: "640100", level: "县", kind: "行政区划", pace: 0.55},
  {code: "640122", name: "贺兰县", parent: "640100", level: "县", kind: "行政区划", pace: 0.78},
  {code: "640181", name: "灵武市", parent: "640100", level: "县", kind: "行政区划", pace: 0.95},
  {
    code: "6401ND",
    name: "宁东能源化工基地",
    parent: "640100",
    level: "县",
    kind: "功能区",
    pace: 0.8,
    aliases: "宁东、宁东基地、宁东管委会"
  },
  {
    code: "640199",
    name: "银川市本级",
    parent: "640100",
    level: "县",
    kind: "市本级",
    pace: 0.88,
    aliases: "市本级"
  },
  {code: "640200", name: "石嘴山市", parent: "640000", level: "市", kind: "行政区划"},
  {code: "640202", name: "大武口区", parent: "640200", level: "县", kind: "行政区划", pace: 0.84},
  {code: "640205", name: "惠农区", parent: "640200", level: "县", kind: "行政区划", pace: 0.8},
  {code: "640221", name: "平罗县", parent: "640200", level: "县", kind: "行政区划", pace: 0.7},
  {code: "640300", name: "吴忠市", parent: "640000", level: "市", kind: "行政区划"},
  {code: "640302", name: "利通区", parent: "640300", level: "县", kind: "行政区划", pace: 0.87},
  {code: "640303", name: "红寺堡区", parent: "640300", level: "县", kind: "行政区划", pace: 0.74},
  {code: "640323", name: "盐池县", parent: "640300", level: "县", kind: "行政区划", pace: 0.9},
  {code: "640324", name: "同心县", parent: "640300", level: "县", kind: "行政区划", pace: 0.66},
  {code: "640381", name: "青铜峡市", parent: "640300", level: "县", kind: "行政区划", pace: 0.83},
  {code: "640400", name: "固原市", parent: "640000", level: "市", kind: "行政区划"},
  {code: "640402", name: "原州区", parent: "640400", level: "县", kind: "行政区划", pace: 0.85},
  {code: "640422", name: "西吉县", parent: "640400", level: "县", kind: "行政区划", pace: 0.6},
  {code: "640423", name: "隆德县", parent: "640400", level: "县", kind: "行政区划", pace: 0.79},
  {code: "640424", name: "泾源县", parent: "640400", level: "县", kind: "行政区划", pace: 0.92},
  {code: "640425", name: "彭阳县", parent: "640400", level: "县", kind: "行政区划", pace: 0.81},
  {code: "640500", name: "中卫市", parent: "640000", level: "市", kind: "行政区划"},
  {code: "640502", name: "沙坡头区", parent: "640500", level: "县", kind: "行政区划", pace: 0.88},
  {code: "640521", name: "中宁县", parent: "640500", level: "县", kind: "行政区划", pace: 0.76},
  {code: "640522", name: "海原县", parent: "640500", level: "县", kind: "行政区划", pace: 0.63}
];

const CAMPAIGN = {
  id: "ZX2024",
  name: "2024年打击欺诈骗保专项整治行动",
  start: "2024-05-15",
  end: "2024-11-30",
  asOf: "2024-09-27"
};

const DAY = 86_400_000;
const toIso = (t: number): string => new Date(t).toISOString().slice(0, 10);
const fromIso = (s: string): number => Date.parse(`${s}T00:00:00Z`);

/** Fen as exact yuan text: 1294692n → "12946.92". */
export function fenText(fen: bigint): string {
  const sign = fen < 0n ? "-" : "";
  const abs = fen < 0n ? -fen : fen;
  return `${sign}${abs / 100n}.${String(abs % 100n).padStart(2, "0")}`;
}
/** Fen as exact 万元 text: 1294692n → "1.294692". */
export function fenWanText(fen: bigint): string {
  const whole = fen / 1_000_000n;
  const frac = String(fen % 1_000_000n)
    .padStart(6, "0")
    .replace(/0+$/, "");
  return frac ? `${whole}.${frac}` : `${whole}`;
}

export interface GenOptions {
  rows: number;
  seed: number;
  out: string;
  format: "mixed" | "csv";
}

/** Streams rows to a CSV file with backpressure. */
class CsvSink {
  private stream: WriteStream;
  constructor(path: string, header: string[]) {
    this.stream = createWriteStream(path);
    this.stream.write(csvFormatRows([header]) + "\n");
  }
  async write(row: string[]): Promise<void> {
    if (!this.stream.write(csvFormatRows([row]) + "\n")) await once(this.stream, "drain");
  }
  async close(): Promise<void> {
    this.stream.end();
    await once(this.stream, "finish");
  }
}

const headersOf = (ds: Dataset): string[] => Object.values(ds.columns).map((c) => c.header);

export async function generate(options: GenOptions): Promise<{inspections: number; findings: number}> {
  const random = rng(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const weighted = <T>(items: readonly (readonly [T, number])[]): T => {
    let r = random() * items.reduce((s, [, w]) => s + w, 0);
    for (const [item, w] of items) if ((r -= w) <= 0) return item;
    return (items[items.length - 1] as readonly [T, number])[0];
  };
  const between = (lo: number, hi: number): number => lo + random() * (hi - lo);
  await rm(options.out, {recursive: true, force: true});
  await mkdir(options.out, {recursive: true});

  const counties = NINGXIA.filter((p) => p.level === "县");
  const targetInspections = Math.max(1, Math.round(options.rows * 0.7));
  const targetFindings = Math.max(0, options.rows - targetInspections);
  const meanPace = counties.reduce((s, c) => s + (c.pace ?? 0.8), 0) / counties.length;
  const institutionCount = Math.min(
    Math.max(counties.length * 8, Math.ceil(targetInspections / (meanPace * 1.15))),
    60_000
  );

  // Institutions, spread over counties (Yinchuan's urban districts get more).
  const weight = (c: Place): number => (c.parent === "640100" ? 1.6 : 1) * (c.kind === "功能区" ? 0.4 : 1);
  const totalWeight = counties.reduce((s, c) => s + weight(c), 0);
  const insts: {code: string; name: string; county: Place; kind: string; level: string; ownership: string}[] =
    [];
  for (const county of counties) {
    const n = Math.max(6, Math.round((institutionCount * weight(county)) / totalWeight));
    let h = 0;
    let p = 0;
    for (let i = 0; i < n; ++i) {
      const kind = weighted([
        ["医院", 0.12],
        ["基层医疗机构", 0.14],
        ["村卫生室", 0.18],
        ["诊所", 0.2],
        ["零售药店", 0.36]
      ] as const);
      const isPharmacy = kind === "零售药店";
      const seq = String(isPharmacy ? ++p : ++h).padStart(5, "0");
      const code = `${isPharmacy ? "P" : "H"}${county.code.replace("ND", "90")}${seq}`;
      const level =
        kind === "医院"
          ? weighted([
              ["三级", 0.15],
              ["二级", 0.45],
              ["一级", 0.3],
              ["未定级", 0.1]
            ] as const)
          : kind === "基层医疗机构"
            ? "一级"
            : "未定级";
      const ownership =
        kind === "医院" || kind === "基层医疗机构"
          ? random() < 0.7
            ? "公立"
            : "民营"
          : kind === "村卫生室"
            ? "公立"
            : "民营";
      const suffix = {
        医院: "医院",
        基层医疗机构: "卫生院",
        村卫生室: "村卫生室",
        诊所: "诊所",
        零售药店: "大药房"
      }[kind];
      insts.push({
        code,
        name: `${county.name.replace(/(区|县|市|能源化工基地|本级)$/, "")}${pick(["仁和", "康泰", "济民", "同心", "惠民", "福康", "益民", "安康", "长青", "德济"])}${suffix}${seq.replace(/^0+/, "")}号`,
        county,
        kind,
        level,
        ownership
      });
    }
  }

  const start = fromIso(CAMPAIGN.start);
  const asOf = fromIso(CAMPAIGN.asOf);
  const fridays: number[] = [];
  for (let t = start; t <= asOf; t += DAY) if (new Date(t).getUTCDay() === 5) fridays.push(t);

  // Per county and Friday: cumulative figures for the weekly reports.
  const weekly = new Map<
    string,
    {
      inspected: Set<string>;
      problems: Set<string>;
      events: {t: number; inst: string; problem: boolean}[];
      money: {t: number; fen: bigint; fine: boolean}[];
    }
  >();
  for (const c of counties)
    weekly.set(c.code, {inspected: new Set(), problems: new Set(), events: [], money: []});

  const rowsOf = {inspections: [] as string[][], findings: [] as string[][], dispositions: [] as string[][]};
  const streaming = options.format === "csv";
  const sinks = streaming
    ? {
        inspections: new CsvSink(join(options.out, "inspections.csv"), headersOf(inspections)),
        findings: new CsvSink(join(options.out, "findings.csv"), headersOf(findings)),
        dispositions: new CsvSink(join(options.out, "dispositions.csv"), headersOf(dispositions))
      }
    : undefined;
  const emit = async (table: keyof typeof rowsOf, row: string[]): Promise<void> => {
    if (sinks) await sinks[table].write(row);
    else rowsOf[table].push(row);
  };

  let nInspections = 0;
  let nFindings = 0;
  let nDispositions = 0;
  const findingRate = targetFindings / targetInspections;
  while (nInspections < targetInspections) {
    for (const inst of insts) {
      if (nInspections >= targetInspections) break;
      const pace = inst.county.pace ?? 0.8;
      if (random() > pace * 1.15) continue;
      const kind = weighted([
        ["专项检查", 45],
        ["日常检查", 20],
        ["自查自纠", 10],
        ["抽查复查", 8],
        ["交叉检查", 5],
        ["飞行检查", 4],
        ["回头看", 4],
        ["智能监控", 4]
      ] as const);
      // Diligent districts front-load their work; lagging ones start late.
      const share = Math.pow(random(), pace > 0.7 ? 1.3 : 0.6);
      const t = start + Math.floor(share * ((asOf - start) / DAY)) * DAY;
      const id = `JC${inst.county.code}-${String(++nInspections).padStart(7, "0")}`;
      const problemRate = (inst.ownership === "民营" ? 0.45 : 0.3) * (kind === "飞行检查" ? 1.5 : 1);
      const last = nInspections === targetInspections;
      // The last inspection takes whatever findings remain, so there are exactly N rows in all.
      const problem =
        random() < Math.min(0.95, problemRate * Math.max(0.6, findingRate / 0.6)) ||
        (last && nFindings < targetFindings);
      const reviewed = inst.kind === "医院" ? Math.round(between(60, 900)) : null;
      const rereviewRate =
        inst.county.pace && inst.county.pace < 0.6 ? between(0.02, 0.05) : between(0.04, 0.09);
      const rereviewed = reviewed === null ? null : Math.round(reviewed * rereviewRate);
      const campaignId = kind === "日常检查" && random() < 0.5 ? "" : CAMPAIGN.id;
      await emit("inspections", [
        id,
        inst.code,
        toIso(t),
        kind,
        campaignId,
        problem ? "是" : "否",
        reviewed === null ? "" : String(reviewed),
        rereviewed === null ? "" : String(rereviewed)
      ]);
      const w = weekly.get(inst.county.code);
      if (kind !== "智能监控" && kind !== "自查自纠") w?.events.push({t, inst: inst.code, problem});
      if (!problem) continue;
      // About 38% of inspections find problems: spread the findings still to write over them.
      const perProblem = Math.max(
        1,
        (targetFindings - nFindings) / Math.max(1, (targetInspections - nInspections + 1) * 0.38)
      );
      const k = last
        ? targetFindings - nFindings
        : Math.floor(perProblem) + (random() < perProblem - Math.floor(perProblem) ? 1 : 0);
      for (let f = 0; f < k && nFindings < targetFindings; ++f) {
        const fid = `WT${String(++nFindings).padStart(8, "0")}`;
        const category = weighted([
          ["过度诊疗", 18],
          ["串换药品", 14],
          ["超标准收费", 12],
          ["重复收费", 10],
          ["分解住院", 8],
          ["挂床住院", 6],
          ["低指征收住", 6],
          ["虚假购药", 6],
          ["超医保目录", 6],
          ["违规收费", 5],
          ["盗刷冒用医保卡", 3],
          ["虚构医疗服务", 3],
          ["上传与病例不符", 2],
          ["其他", 1]
        ] as const);
        const involved = BigInt(Math.round(Math.exp(between(6.5, 11.2)) * 100 + random() * 100));
        const fundPaid = (involved * BigInt(Math.round(between(65, 92)))) / 100n;
        await emit("findings", [fid, id, category, fenText(involved), fenText(fundPaid), ""]);
        const decided = t + Math.round(between(3, 45)) * DAY;
        if (decided > asOf) continue;
        const big = involved >= 5_000_000n;
        const reported = big
          ? decided + Math.round(random() < 0.8 ? between(0, 2) : between(3, 9)) * DAY
          : random() < 0.3
            ? decided + Math.round(between(1, 10)) * DAY
            : null;
        const action = weighted([
          ["追回", 70],
          ["拒付", 15],
          ["扣回", 15]
        ] as const);
        const recovered =
          random() < 0.85 ? fundPaid : (fundPaid * BigInt(Math.round(between(30, 90)))) / 100n;
        const reportedIso = reported === null || reported > asOf ? "" : toIso(reported);
        await emit("dispositions", [
          `CL${String(++nDispositions).padStart(8, "0")}`,
          fid,
          "",
          action,
          fenText(recovered),
          toIso(decided),
          reportedIso
        ]);
        w?.money.push({t: decided, fen: recovered, fine: false});
        if (random() < 0.15) {
          const fine = (fundPaid * BigInt(Math.round(between(100, 200)))) / 100n;
          await emit("dispositions", [
            `CL${String(++nDispositions).padStart(8, "0")}`,
            fid,
            "",
            "罚款",
            fenText(fine),
            toIso(decided),
            reportedIso
          ]);
          w?.money.push({t: decided, fen: fine, fine: true});
        }
      }
      const decided = t + Math.round(between(2, 30)) * DAY;
      if (decided <= asOf) {
        for (const [action, p] of [
          ["约谈", 0.5],
          ["限期整改", 0.6],
          ["通报批评", 0.12],
          ["暂停协议", 0.05],
          ["解除协议", 0.01],
          ["行政处罚", 0.04],
          ["移交公安", 0.01]
        ] as const) {
          if (random() < p)
            await emit("dispositions", [
              `CL${String(++nDispositions).padStart(8, "0")}`,
              "",
              id,
              action,
              "",
              toIso(decided),
              ""
            ]);
        }
      }
    }
  }

  // Divisions, with denominators from the institutions generated.
  const denominators = new Map<string, {medical: number; pharmacies: number}>();
  for (const inst of insts) {
    for (const code of [inst.county.code, inst.county.parent ?? "", "640000"]) {
      const d = denominators.get(code) ?? {medical: 0, pharmacies: 0};
      if (inst.kind === "零售药店") d.pharmacies += 1;
      else d.medical += 1;
      denominators.set(code, d);
    }
  }
  const divisionRows = NINGXIA.map((p) => [
    p.code,
    p.name,
    p.parent ?? "",
    p.level,
    p.kind,
    String(denominators.get(p.code)?.medical ?? 0),
    String(denominators.get(p.code)?.pharmacies ?? 0),
    "",
    p.aliases ?? ""
  ]);
  const campaignRow = [
    CAMPAIGN.id,
    CAMPAIGN.name,
    CAMPAIGN.start,
    CAMPAIGN.end,
    "2024-05-31",
    "2024-06-30",
    "2024-10-31",
    "2024-11-30",
    "80",
    "2024-08-31",
    "100",
    "2024-10-31",
    "5",
    "50000",
    "2"
  ];
  const institutionRows = insts.map((i) => [i.code, i.name, i.county.code, i.kind, i.level, i.ownership]);

  // Weekly reports: cumulative, mostly accurate; a few districts over-report by a little.
  const weeklyRows: string[][] = [];
  for (const county of counties) {
    const w = weekly.get(county.code);
    if (!w) continue;
    const skew = county.code === "640221" || county.code === "640324" ? 1.03 : 1;
    for (const friday of fridays) {
      const inspected = new Set(w.events.filter((e) => e.t <= friday).map((e) => e.inst));
      const problems = new Set(w.events.filter((e) => e.t <= friday && e.problem).map((e) => e.inst));
      const recovered = w.money.filter((m) => m.t <= friday && !m.fine).reduce((s, m) => s + m.fen, 0n);
      const fined = w.money.filter((m) => m.t <= friday && m.fine).reduce((s, m) => s + m.fen, 0n);
      const name = county.code === "6401ND" ? pick(["宁东", "宁东基地", "宁东能源化工基地"]) : county.name;
      weeklyRows.push([
        name,
        toIso(friday),
        CAMPAIGN.id,
        String(Math.round(inspected.size * skew)),
        String(problems.size),
        fenText(recovered),
        fenText(fined)
      ]);
    }
  }

  if (sinks) {
    await Promise.all(Object.values(sinks).map((s) => s.close()));
    const plain = async (name: string, ds: Dataset, rows: string[][]): Promise<void> => {
      await writeFile(join(options.out, name), csvFormatRows([headersOf(ds), ...rows]) + "\n");
    };
    await plain("divisions.csv", divisions, divisionRows);
    await plain("campaigns.csv", campaigns, [campaignRow]);
    await plain("institutions.csv", institutions, institutionRows);
    await plain("weekly_reports.csv", weeklyReports, weeklyRows);
  } else {
    await writeMixed(options.out, {divisionRows, campaignRow, institutionRows, weeklyRows, ...rowsOf});
  }
  return {inspections: nInspections, findings: nFindings};
}

const CITY_OF = (code: string): string => `${code.slice(0, 4)}00`;
const CITY_NAME = new Map(NINGXIA.filter((p) => p.level === "市").map((p) => [p.code, p.name]));

/** How each city sends its files. */
const CITY_FORMS: Record<
  string,
  {format: "csv-gbk" | "csv-utf8" | "xlsx"; wan?: boolean; twoRowHeader?: boolean}
> = {
  "640100": {format: "csv-gbk"},
  "640200": {format: "xlsx", twoRowHeader: true},
  "640300": {format: "csv-gbk", wan: true},
  "640400": {format: "csv-utf8"},
  "640500": {format: "xlsx", wan: true}
};

// These files imitate what districts send (inputs the loaders must read as sent), so their text is not
// passed through safeCell (src/format/spreadsheet.ts); none of it begins with a formula character, which
// test/unit/spreadsheet-safe.test.ts checks on data/ningxia.
async function writeCsv(
  path: string,
  rows: string[][],
  encoding: "utf8" | "gbk",
  titleRows: string[] = []
): Promise<void> {
  const text = [...titleRows.map((t) => csvFormatRows([[t]])), csvFormatRows(rows)].join("\n") + "\n";
  await writeFile(path, encoding === "gbk" ? encodeGbk(text) : "\uFEFF" + text);
}

/** Encodes text as GB18030/GBK using the reverse of the platform's own decoder (exact for the characters we write). */
let gbkTable: Map<string, number[]> | undefined;
export function encodeGbk(text: string): Buffer {
  if (!gbkTable) {
    gbkTable = new Map();
    const decoder = new TextDecoder("gb18030");
    for (let lead = 0x81; lead <= 0xfe; ++lead) {
      for (let trail = 0x40; trail <= 0xfe; ++trail) {
        if (trail === 0x7f) continue;
        const ch = decoder.decode(new Uint8Array([lead, trail]));
        if (ch.length === 1 && ch !== "\uFFFD" && !gbkTable.has(ch)) gbkTable.set(ch, [lead, trail]);
      }
    }
  }
  const bytes: number[] = [];
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    if (code < 0x80) bytes.push(code);
    else {
      const mapped = gbkTable.get(ch);
      if (!mapped) throw new Error(`GBK 无法表示的字符：${ch}`);
      bytes.push(...mapped);
    }
  }
  return Buffer.from(bytes);
}

async function writeXlsx(
  path: string,
  title: string,
  header: string[],
  rows: (string | number | Date)[][],
  options: {groups?: (string | null)[]} = {}
): Promise<void> {
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet("Sheet1");
  const width = header.length;
  sheet.addRow([title]);
  sheet.mergeCells(1, 1, 1, width);
  sheet.addRow([
    `填报单位：${title.replace(/(定点医药机构|检查记录|违规问题|处理结果|周报).*$/, "")}医疗保障局    填报日期：2024年9月27日`
  ]);
  sheet.mergeCells(2, 1, 2, width);
  if (options.groups) {
    // Two-row header: a group cell over the amount columns, other headers merged down two rows.
    const groups = options.groups;
    sheet.addRow(header.map((h, i) => groups[i] ?? h));
    sheet.addRow(header);
    let c = 0;
    while (c < width) {
      const g = groups[c];
      if (g) {
        let end = c;
        while (end + 1 < width && groups[end + 1] === g) ++end;
        sheet.mergeCells(3, c + 1, 3, end + 1);
        c = end + 1;
      } else {
        sheet.mergeCells(3, c + 1, 4, c + 1);
        ++c;
      }
    }
  } else sheet.addRow(header);
  for (const row of rows) sheet.addRow(row);
  sheet.addRow(["填表说明：金额保留两位小数。"]);
  // Fixed dates inside the workbook and on its zip entries: the same seed gives the same bytes.
  workbook.created = workbook.modified = FIXED_DATE;
  await writeFile(path, fixZipTimestamps(Buffer.from(await workbook.xlsx.writeBuffer()), FIXED_DATE));
}

interface MixedData {
  divisionRows: string[][];
  campaignRow: string[];
  institutionRows: string[][];
  weeklyRows: string[][];
  inspections: string[][];
  findings: string[][];
  dispositions: string[][];
}

/** Writes the district forms, and plants a few bad rows (each a different mistake). */
async function writeMixed(out: string, data: MixedData): Promise<void> {
  await writeCsv(join(out, "区划.csv"), [headersOf(divisions), ...data.divisionRows], "utf8");
  await writeCsv(join(out, "专项行动.csv"), [headersOf(campaigns), data.campaignRow], "utf8");
  const institutionCity = new Map(data.institutionRows.map((r) => [r[0] ?? "", CITY_OF(r[2] ?? "")]));
  const inspectionCity = new Map(
    data.inspections.map((r) => [r[0] ?? "", institutionCity.get(r[1] ?? "") ?? ""])
  );
  const findingCity = new Map(data.findings.map((r) => [r[0] ?? "", inspectionCity.get(r[1] ?? "") ?? ""]));
  const nameToCity = new Map(NINGXIA.map((p) => [p.name, CITY_OF(p.code)]));
  const byCity = <T extends string[]>(rows: T[], cityOf: (r: T) => string): Map<string, T[]> => {
    const map = new Map<string, T[]>();
    for (const r of rows) map.set(cityOf(r), [...(map.get(cityOf(r)) ?? []), r]);
    return map;
  };
  const sets = {
    institutions: byCity(data.institutionRows, (r) => CITY_OF(r[2] ?? "")),
    inspections: byCity(data.inspections, (r) => inspectionCity.get(r[0] ?? "") ?? ""),
    findings: byCity(data.findings, (r) => findingCity.get(r[0] ?? "") ?? ""),
    dispositions: byCity(
      data.dispositions,
      (r) => (r[1] ? findingCity.get(r[1]) : inspectionCity.get(r[2] ?? "")) ?? ""
    ),
    weekly: byCity(data.weeklyRows, (r) => nameToCity.get(r[0] ?? "") ?? "640100")
  };

  // Bad rows on purpose, one of each kind, in Yinchuan's and Wuzhong's files.
  const yc = sets.inspections.get("640100") ?? [];
  const firstInspection = yc[0] ?? [];
  yc.push([...firstInspection]); // duplicate inspection id
  yc.push(["JC640104-BAD0001", "H64010499999", "2024-06-03", "专项检查", "ZX2024", "否", "", ""]); // unknown institution
  yc.push([
    "JC640104-BAD0002",
    firstInspection[1] ?? "",
    "2024年2月30日",
    "专项检查",
    "ZX2024",
    "否",
    "",
    ""
  ]); // impossible date
  yc.push(["JC640104-BAD0003", firstInspection[1] ?? "", "2024-03-01", "专项检查", "ZX2024", "否", "", ""]); // before the campaign
  const ycFindings = sets.findings.get("640100") ?? [];
  ycFindings.push(["WT-BAD0001", firstInspection[0] ?? "", "过度诊疗", "约2万元", "", ""]); // vague amount
  ycFindings.push(["WT-BAD0002", firstInspection[0] ?? "", "过度诊疗", "", "", ""]); // blank amount
  ycFindings.push(["WT-BAD0003", firstInspection[0] ?? "", "乱收费", "1200.00", "", ""]); // not a category
  const wzDispositions = sets.dispositions.get("640300") ?? [];
  wzDispositions.push([
    "CL-BAD0001",
    "",
    (sets.inspections.get("640300") ?? [])[0]?.[0] ?? "",
    "罚款",
    "",
    "2024-07-01",
    ""
  ]); // fine without amount
  const wzWeekly = sets.weekly.get("640300") ?? [];
  wzWeekly.push(["红寺堡开发区", "2024-09-27", "ZX2024", "3", "1", "0.00", "0.00"]); // unknown district name

  for (const [city, form] of Object.entries(CITY_FORMS)) {
    const cityName = CITY_NAME.get(city) ?? city;
    const files: [string, Dataset, string[][]][] = [
      ["定点医药机构", institutions, sets.institutions.get(city) ?? []],
      ["检查记录", inspections, sets.inspections.get(city) ?? []],
      ["违规问题", findings, sets.findings.get(city) ?? []],
      ["处理结果", dispositions, sets.dispositions.get(city) ?? []],
      ["周报", weeklyReports, sets.weekly.get(city) ?? []]
    ];
    for (const [label, ds, rows] of files) {
      const header = headersOf(ds);
      let body = rows;
      if (form.wan && (ds === findings || ds === weeklyReports)) {
        // Amount columns in 万元: the header says so, the values are exact in 万元.
        const amountColumns = header
          .map((h, i) => (["涉及金额", "基金支付金额", "累计追回金额", "累计罚款金额"].includes(h) ? i : -1))
          .filter((i) => i >= 0);
        for (const i of amountColumns) header[i] = `${header[i]}（万元）`;
        body = rows.map((r) =>
          r.map((v, i) =>
            amountColumns.includes(i) && /^\d+\.\d{2}$/.test(v) ? fenWanText(BigInt(v.replace(".", ""))) : v
          )
        );
      }
      const name = `${cityName}_${label}`;
      if (form.format === "xlsx") {
        const numeric = body.map((r) =>
          r.map((v, i) =>
            ds.columns[Object.keys(ds.columns)[i] ?? ""]?.duck === "INTEGER" && /^\d+$/.test(v)
              ? Number(v)
              : v
          )
        );
        const twoRow = form.twoRowHeader && ds === findings;
        const groups = twoRow
          ? header.map((h) => (h.startsWith("涉及金额") || h.startsWith("基金支付金额") ? "金额" : null))
          : undefined;
        await writeXlsx(
          join(out, `${name}.xlsx`),
          `${cityName}${label}表`,
          header,
          numeric,
          groups ? {groups} : {}
        );
      } else {
        await writeCsv(
          join(out, `${name}.csv`),
          [header, ...body],
          form.format === "csv-gbk" ? "gbk" : "utf8",
          ds === inspections ? [`${cityName}${label}表（2024年专项整治行动）`] : []
        );
      }
    }
  }
}

function parseArgs(argv: string[]): GenOptions {
  const root = fileURLToPath(new URL("../", import.meta.url));
  const options: GenOptions = {
    rows: 6000,
    seed: 20240515,
    out: join(root, "data", "ningxia"),
    format: "mixed"
  };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`缺少取值：${flag}`);
    if (flag === "--rows") options.rows = Number(value);
    else if (flag === "--seed") options.seed = Number(value);
    else if (flag === "--out") options.out = value;
    else if (flag === "--format" && (value === "mixed" || value === "csv")) options.format = value;
    else
      throw new Error(
        `用法：npm run gen:data -- [--rows N] [--seed S] [--out DIR] [--format mixed|csv]（不认识：${flag}）`
      );
  }
  if (!Number.isInteger(options.rows) || options.rows < 10) throw new Error("--rows 应为不小于 10 的整数");
  return options;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const options = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const counts = await generate(options);
  console.error(
    `[fundwatch] 已生成 ${counts.inspections} 条检查记录、${counts.findings} 条违规问题（种子 ${options.seed}，${options.format}），输出 ${options.out}，用时 ${((Date.now() - started) / 1000).toFixed(1)} 秒`
  );
}
