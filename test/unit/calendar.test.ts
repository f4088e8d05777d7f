// The holiday calendar as data (data/节假日.csv): the shipped file checked, day by day, against the text of
// each year's State Council General Office notice; the checker's Chinese message for each kind of bad row;
// and the ingest refusing data in a year the calendar lacks, naming the year and the file.
import {mkdtemp, readFile, rm, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join, resolve} from "node:path";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {
  calendarForData,
  calendarPath,
  readCalendarFile,
  yearsNeeded,
  type CalendarFile
} from "../../loaders/calendar.js";
import {ingest, IngestError, type LoadedRow} from "../../loaders/ingest.js";
import {calendarFromRows, isWorkingDay, workingDaysBetween} from "../../src/metrics/calendar.js";

const ROOT = resolve(import.meta.dirname, "..", "..");
const SHIPPED = join(ROOT, "data", "节假日.csv");

/**
 * The notices, their arrangements copied from the published text (一、元旦：… each item after the holiday's
 * name). 2019's 劳动节 is the adjusted arrangement of 国办发明电〔2019〕3号, which replaced the first
 * notice's "5月1日放假。"; 2020's extension of 春节 (国办发明电〔2020〕1号) is checked on its own below.
 */
const NOTICES: {year: number; number: string; date: string; items: Record<string, string>}[] = [
  {
    year: 2018,
    number: "国办发明电〔2017〕12号",
    date: "2017年11月30日",
    items: {
      元旦: "1月1日放假，与周末连休。",
      春节: "2月15日至21日放假调休，共7天。2月11日（星期日）、2月24日（星期六）上班。",
      清明节: "4月5日至7日放假调休，共3天。4月8日（星期日）上班。",
      劳动节: "4月29日至5月1日放假调休，共3天。4月28日（星期六）上班。",
      端午节: "6月18日放假，与周末连休。",
      中秋节: "9月24日放假，与周末连休。",
      国庆节: "10月1日至7日放假调休，共7天。9月29日（星期六）、9月30日（星期日）上班。"
    }
  },
  {
    year: 2019,
    number: "国办发明电〔2018〕15号",
    date: "2018年12月4日",
    items: {
      元旦: "2018年12月30日至2019年1月1日放假调休，共3天。2018年12月29日（星期六）上班。",
      春节: "2月4日至10日放假调休，共7天。2月2日（星期六）、2月3日（星期日）上班。",
      清明节: "4月5日放假，与周末连休。",
      端午节: "6月7日放假，与周末连休。",
      中秋节: "9月13日放假，与周末连休。",
      国庆节: "10月1日至7日放假调休，共7天。9月29日（星期日）、10月12日（星期六）上班。"
    }
  },
  {
    year: 2019,
    number: "国办发明电〔2019〕3号",
    date: "2019年3月22日",
    items: {劳动节: "2019年5月1日至4日放假调休，共4天。4月28日（星期日）、5月5日（星期日）上班。"}
  },
  {
    year: 2020,
    number: "国办发明电〔2019〕16号",
    date: "2019年11月21日",
    items: {
      元旦: "2020年1月1日放假，共1天。",
      春节: "1月24日至30日放假调休，共7天。1月19日（星期日）、2月1日（星期六）上班。",
      清明节: "4月4日至6日放假调休，共3天。",
      劳动节: "5月1日至5日放假调休，共5天。4月26日（星期日）、5月9日（星期六）上班。",
      端午节: "6月25日至27日放假调休，共3天。6月28日（星期日）上班。",
      "国庆节、中秋节": "10月1日至8日放假调休，共8天。9月27日（星期日）、10月10日（星期六）上班。"
    }
  },
  {
    year: 2021,
    number: "国办发明电〔2020〕27号",
    date: "2020年11月25日",
    items: {
      元旦: "2021年1月1日至3日放假，共3天。",
      春节: "2月11日至17日放假调休，共7天。2月7日（星期日）、2月20日（星期六）上班。",
      清明节: "4月3日至5日放假调休，共3天。",
      劳动节: "5月1日至5日放假调休，共5天。4月25日（星期日）、5月8日（星期六）上班。",
      端午节: "6月12日至14日放假，共3天。",
      中秋节: "9月19日至21日放假调休，共3天。9月18日（星期六）上班。",
      国庆节: "10月1日至7日放假调休，共7天。9月26日（星期日）、10月9日（星期六）上班。"
    }
  },
  {
    year: 2022,
    number: "国办发明电〔2021〕11号",
    date: "2021年10月25日",
    items: {
      元旦: "2022年1月1日至3日放假，共3天。",
      春节: "1月31日至2月6日放假调休，共7天。1月29日（星期六）、1月30日（星期日）上班。",
      清明节: "4月3日至5日放假调休，共3天。4月2日（星期六）上班。",
      劳动节: "4月30日至5月4日放假调休，共5天。4月24日（星期日）、5月7日（星期六）上班。",
      端午节: "6月3日至5日放假，共3天。",
      中秋节: "9月10日至12日放假，共3天。",
      国庆节: "10月1日至7日放假调休，共7天。10月8日（星期六）、10月9日（星期日）上班。"
    }
  },
  {
    year: 2023,
    number: "国办发明电〔2022〕16号",
    date: "2022年12月8日",
    items: {
      元旦: "2022年12月31日至2023年1月2日放假调休，共3天。",
      春节: "1月21日至27日放假调休，共7天。1月28日（星期六）、1月29日（星期日）上班。",
      清明节: "4月5日放假，共1天。",
      劳动节: "4月29日至5月3日放假调休，共5天。4月23日（星期日）、5月6日（星期六）上班。",
      端午节: "6月22日至24日放假调休，共3天。6月25日（星期日）上班。",
      "中秋节、国庆节": "9月29日至10月6日放假调休，共8天。10月7日（星期六）、10月8日（星期日）上班。"
    }
  },
  {
    year: 2024,
    number: "国办发明电〔2023〕7号",
    date: "2023年10月25日",
    items: {
      元旦: "1月1日放假，与周末连休。",
      春节: "2月10日至17日放假调休，共8天。2月4日（星期日）、2月18日（星期日）上班。鼓励各单位结合带薪年休假等制度落实，安排职工在除夕（2月9日）休息。",
      清明节: "4月4日至6日放假调休，共3天。4月7日（星期日）上班。",
      劳动节: "5月1日至5日放假调休，共5天。4月28日（星期日）、5月11日（星期六）上班。",
      端午节: "6月10日放假，与周末连休。",
      中秋节: "9月15日至17日放假调休，共3天。9月14日（星期六）上班。",
      国庆节: "10月1日至7日放假调休，共7天。9月29日（星期日）、10月12日（星期六）上班。"
    }
  },
  {
    year: 2025,
    number: "国办发明电〔2024〕12号",
    date: "2024年11月12日",
    items: {
      元旦: "1月1日（周三）放假1天，不调休。",
      春节: "1月28日（农历除夕、周二）至2月4日（农历正月初七、周二）放假调休，共8天。1月26日（周日）、2月8日（周六）上班。",
      清明节: "4月4日（周五）至6日（周日）放假，共3天。",
      劳动节: "5月1日（周四）至5日（周一）放假调休，共5天。4月27日（周日）上班。",
      端午节: "5月31日（周六）至6月2日（周一）放假，共3天。",
      "国庆节、中秋节": "10月1日（周三）至8日（周三）放假调休，共8天。9月28日（周日）、10月11日（周六）上班。"
    }
  },
  {
    year: 2026,
    number: "国办发明电〔2025〕7号",
    date: "2025年11月4日",
    items: {
      元旦: "1月1日（周四）至3日（周六）放假调休，共3天。1月4日（周日）上班。",
      春节: "2月15日（农历腊月二十八、周日）至23日（农历正月初七、周一）放假调休，共9天。2月14日（周六）、2月28日（周六）上班。",
      清明节: "4月4日（周六）至6日（周一）放假，共3天。",
      劳动节: "5月1日（周五）至5日（周二）放假调休，共5天。5月9日（周六）上班。",
      端午节: "6月19日（周五）至21日（周日）放假，共3天。",
      中秋节: "9月25日（周五）至27日（周日）放假，共3天。",
      国庆节: "10月1日（周四）至7日（周三）放假调休，共7天。9月20日（周日）、10月10日（周六）上班。"
    }
  }
];

const WEEKDAY = {日: 0, 一: 1, 二: 2, 三: 3, 四: 4, 五: 5, 六: 6} as Record<string, number>;
const iso = (y: number, m: number, d: number) => new Date(Date.UTC(y, m - 1, d)).toISOString().slice(0, 10);
const weekdayOf = (day: string) => new Date(`${day}T00:00:00Z`).getUTCDay();
/** `（农历除夕、周二）` or `（星期日）` → 2 or 0; undefined when the text gives no weekday. */
const statedWeekday = (paren: string | undefined) => {
  const m = /(?:星期|周)([日一二三四五六])/.exec(paren ?? "");
  return m ? WEEKDAY[m[1]!] : undefined;
};

interface Stated {
  off: string[];
  total: number | null;
  work: string[];
  /** Each day the text gives a weekday for, with that weekday. */
  weekdays: [string, number][];
}

/** What one item of a notice states: the days off (a range), its 共N天, the weekend working days. */
function parseItem(year: number, text: string): Stated {
  const [first = "", ...rest] = text.split("。");
  const start = /^(?:(\d{4})年)?(\d{1,2})月(\d{1,2})日(（[^）]*）)?/.exec(first);
  if (!start) throw new Error(`no start day in ${text}`);
  const y0 = Number(start[1] ?? year);
  const from = iso(y0, Number(start[2]), Number(start[3]));
  const weekdays: [string, number][] = [];
  const startWeekday = statedWeekday(start[4]);
  if (startWeekday !== undefined) weekdays.push([from, startWeekday]);
  let to = from;
  const end = /^至(?:(\d{4})年)?(?:(\d{1,2})月)?(\d{1,2})日(（[^）]*）)?/.exec(first.slice(start[0].length));
  if (end) {
    to = iso(Number(end[1] ?? y0), Number(end[2] ?? start[2]), Number(end[3]));
    const endWeekday = statedWeekday(end[4]);
    if (endWeekday !== undefined) weekdays.push([to, endWeekday]);
  }
  expect(first, text).toMatch(/放假/);
  const off: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 86_400_000)
    off.push(new Date(t).toISOString().slice(0, 10));
  const total = /共(\d+)天/.exec(first);
  const work: string[] = [];
  for (const sentence of rest.filter((s) => s.endsWith("上班"))) {
    for (const m of sentence.matchAll(
      /(?:(\d{4})年)?(\d{1,2})月(\d{1,2})日（(?:星期|周)([日一二三四五六])）/g
    )) {
      const day = iso(Number(m[1] ?? year), Number(m[2]), Number(m[3]));
      work.push(day);
      weekdays.push([day, WEEKDAY[m[4]!]!]);
    }
  }
  return {off, total: total ? Number(total[1]) : null, work, weekdays};
}

let dir: string;
let shipped: CalendarFile;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fundwatch-calendar-"));
  const read = await readCalendarFile(SHIPPED);
  expect(read.problems).toEqual([]);
  shipped = read.calendar!;
});
afterAll(async () => {
  await rm(dir, {recursive: true, force: true});
});

describe("the shipped calendar (data/节假日.csv)", () => {
  it("covers 2018 to 2026, each year's rows citing a notice by its number and date", () => {
    expect(shipped.years).toEqual([2018, 2019, 2020, 2021, 2022, 2023, 2024, 2025, 2026]);
    expect(shipped.file).toBe("data/节假日.csv");
    for (const year of shipped.years) {
      const sources = new Set(shipped.rows.filter((r) => r.year === year).map((r) => r.source));
      const notices = NOTICES.filter((n) => n.year === year);
      expect([...sources].sort(), String(year)).toEqual(
        expect.arrayContaining(notices.map((n) => expect.stringContaining(`${n.number}，${n.date}`)))
      );
      for (const source of sources)
        expect(source).toMatch(
          /^《国务院办公厅关于.*通知》国办发明电〔\d{4}〕\d+号，\d{4}年\d{1,2}月\d{1,2}日$/
        );
    }
  });

  it("has exactly the days the notices state, with their weekdays and day counts as the notices give them", () => {
    const expected = new Map<string, {kind: string; name: string; year: number; number: string}>();
    for (const notice of NOTICES) {
      for (const [name, text] of Object.entries(notice.items)) {
        const stated = parseItem(notice.year, text);
        for (const [day, weekday] of stated.weekdays)
          expect(weekdayOf(day), `${day} in ${text}`).toBe(weekday);
        if (stated.total !== null) expect(stated.off.length, text).toBe(stated.total);
        for (const day of stated.off)
          expected.set(day, {kind: "休", name, year: notice.year, number: notice.number});
        for (const day of stated.work)
          expected.set(day, {kind: "班", name, year: notice.year, number: notice.number});
      }
    }
    // 国办发明电〔2020〕1号: "延长2020年春节假期至2月2日（农历正月初九，星期日），2月3日（星期一）起正常上班。"
    // The days after 1月30日 to 2月2日 are off, and 2月1日 (a Saturday first made a working day) with them.
    expect([weekdayOf("2020-02-02"), weekdayOf("2020-02-03")]).toEqual([0, 1]);
    for (const day of ["2020-01-31", "2020-02-01", "2020-02-02"])
      expected.set(day, {kind: "休", name: "春节", year: 2020, number: "国办发明电〔2020〕1号"});

    const actual = new Map(shipped.rows.map((r) => [r.day, r]));
    expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [day, want] of expected) {
      const row = actual.get(day)!;
      expect({day, kind: row.kind, name: row.name, year: row.year}).toEqual({
        day,
        kind: want.kind,
        name: want.name,
        year: want.year
      });
      expect(row.source, day).toContain(want.number);
    }
  });

  it("answers hand-checked days from the notices", () => {
    const calendar = calendarFromRows(shipped.rows);
    const off = (from: string, to: string) => {
      const days: string[] = [];
      for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 86_400_000)
        days.push(new Date(t).toISOString().slice(0, 10));
      return days.map((d) => [d, isWorkingDay(calendar, d)]);
    };
    // 2023 中秋节、国庆节: 9月29日至10月6日 off; 10月7日（星期六）、10月8日（星期日）上班.
    expect(off("2023-09-29", "2023-10-06").every(([, w]) => w === false)).toBe(true);
    expect([isWorkingDay(calendar, "2023-10-07"), isWorkingDay(calendar, "2023-10-08")]).toEqual([
      true,
      true
    ]);
    expect(isWorkingDay(calendar, "2023-10-09")).toBe(true); // a Monday
    expect(isWorkingDay(calendar, "2020-01-01")).toBe(false); // 元旦 2020, a Wednesday
    // 2019 劳动节 as adjusted (国办发明电〔2019〕3号): 5月1日至4日 off, 4月28日、5月5日 (Sundays) worked.
    expect(off("2019-05-01", "2019-05-04").every(([, w]) => w === false)).toBe(true);
    expect([isWorkingDay(calendar, "2019-04-28"), isWorkingDay(calendar, "2019-05-05")]).toEqual([
      true,
      true
    ]);
    // 2026 春节: 2月15日至23日 off (9 days); 2月14日、2月28日 (Saturdays) worked.
    expect(off("2026-02-15", "2026-02-23").every(([, w]) => w === false)).toBe(true);
    expect([isWorkingDay(calendar, "2026-02-14"), isWorkingDay(calendar, "2026-02-28")]).toEqual([
      true,
      true
    ]);
    // 2020 春节 extended to 2月2日: 1月31日 (a Friday) and 2月1日 (the Saturday no longer worked) off.
    expect([isWorkingDay(calendar, "2020-01-31"), isWorkingDay(calendar, "2020-02-01")]).toEqual([
      false,
      false
    ]);
    expect(isWorkingDay(calendar, "2020-02-03")).toBe(true);
    // 2019 元旦 began in 2018 (2018年12月30日至2019年1月1日; 2018年12月29日 worked).
    expect([isWorkingDay(calendar, "2018-12-29"), isWorkingDay(calendar, "2018-12-31")]).toEqual([
      true,
      false
    ]);
    // From Friday 2023-09-28 to Monday 2023-10-09: 10-07 and 10-08 (调休) and 10-09 are the working days.
    expect(workingDaysBetween(calendar, "2023-09-28", "2023-10-09")).toBe(3);
    expect(() => isWorkingDay(calendar, "2027-01-04")).toThrow(/节假日表中没有 2027 年.*2018—2026 年/);
    expect(() => isWorkingDay(calendar, "2017-12-29")).toThrow(/节假日表中没有 2017 年/);
  });
});

/** A calendar file with these data lines under the standard header, written to the temp folder. */
async function calendarFile(
  name: string,
  lines: string[],
  header = "日期,类型,节日,年度,依据,备注"
): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `\uFEFF${[header, ...lines].join("\n")}\n`);
  return path;
}
const SOURCE = "《国务院办公厅关于2024年部分节假日安排的通知》国办发明电〔2023〕7号，2023年10月25日";

describe("where the calendar is read from", () => {
  it("is data/节假日.csv of the project, or the file FUNDWATCH_CALENDAR names (relative to the project)", () => {
    expect(calendarPath(ROOT, {})).toBe(SHIPPED);
    expect(calendarPath(ROOT, {FUNDWATCH_CALENDAR: "other/节假日.csv"})).toBe(
      join(ROOT, "other", "节假日.csv")
    );
    expect(calendarPath(ROOT, {FUNDWATCH_CALENDAR: "/srv/节假日.csv"})).toBe("/srv/节假日.csv");
    expect(calendarPath()).toBe(SHIPPED);
  });
});

describe("the calendar checker", () => {
  it("accepts a good file, weekend days inside a holiday period included", async () => {
    const path = await calendarFile("good.csv", [
      `2024-10-01,休,国庆节,2024,${SOURCE},`,
      `2024-10-05,休,国庆节,2024,${SOURCE},星期六，在假期内`,
      `2024/10/12,班,国庆节,2024,${SOURCE},`
    ]);
    const read = await readCalendarFile(path);
    expect(read.problems).toEqual([]);
    expect(read.calendar!.rows.map((r) => [r.day, r.kind, r.line])).toEqual([
      ["2024-10-01", "休", 2],
      ["2024-10-05", "休", 3],
      ["2024-10-12", "班", 4]
    ]);
    expect(read.calendar!.file).toBe("good.csv"); // outside the project: the bare name, no machine path
  });

  it.each([
    [
      "a day that does not exist",
      `2024-02-30,休,春节,2024,${SOURCE},`,
      /第 2 行「日期」：不存在的日期：2024年2月30日/
    ],
    ["not a date", `国庆,休,国庆节,2024,${SOURCE},`, /第 2 行「日期」：无法识别的日期：国庆/],
    [
      "a kind other than 休 or 班",
      `2024-10-01,假,国庆节,2024,${SOURCE},`,
      /第 2 行「类型」：应为“休”（放假）或“班”（调休上班），收到「假」/
    ],
    [
      "a 班 day on a weekday",
      `2024-10-11,班,国庆节,2024,${SOURCE},`,
      /第 2 行「日期」：2024-10-11 是星期五：类型为“班”（调休上班）的日子应是星期六或星期日/
    ],
    [
      "an unknown holiday",
      `2024-10-01,休,国庆,2024,${SOURCE},`,
      /第 2 行「节日」：应为 元旦、春节、清明节、劳动节、端午节、中秋节、国庆节 之一/
    ],
    ["no holiday named", `2024-10-01,休,,2024,${SOURCE},`, /第 2 行「节日」：不能为空/],
    [
      "a day outside its notice's year",
      `2024-05-01,休,劳动节,2023,${SOURCE},`,
      /第 2 行「年度」：2024-05-01 不属于 2023 年度的通知/
    ],
    [
      "a year that is not a year",
      `2024-05-01,休,劳动节,二〇二四,${SOURCE},`,
      /第 2 行「年度」：应为四位数的年份/
    ],
    [
      "no 依据",
      "2024-10-01,休,国庆节,2024,,",
      /第 2 行「依据」：不能为空：每一行都要写明国务院办公厅通知的名称、文号和日期/
    ],
    [
      "a 依据 without a document number",
      "2024-10-01,休,国庆节,2024,国务院通知,",
      /第 2 行「依据」：没有通知的文号（如 国办发明电〔2023〕7号），收到「国务院通知」/
    ]
  ])("refuses %s, naming the file, row and column", async (_, line, message) => {
    const path = await calendarFile("bad.csv", [line]);
    const read = await readCalendarFile(path);
    expect(read.calendar).toBeUndefined();
    expect(read.problems).toHaveLength(1);
    expect(read.problems[0]).toMatch(message);
    expect(read.problems[0]).toContain(`节假日表 ${path} 第 2 行`);
  });

  it("refuses a day listed twice, naming both rows", async () => {
    const path = await calendarFile("twice.csv", [
      `2024-10-01,休,国庆节,2024,${SOURCE},`,
      `2024-10-01,休,国庆节,2024,${SOURCE},`
    ]);
    expect((await readCalendarFile(path)).problems).toEqual([
      `节假日表 ${path} 第 3 行「日期」：2024-10-01 重复，第 2 行已有这一天`
    ]);
  });

  it("refuses a missing file, a missing or unknown column, and a file with no rows", async () => {
    const missing = join(dir, "none.csv");
    expect((await readCalendarFile(missing)).problems).toEqual([
      expect.stringMatching(new RegExp(`^节假日表 ${missing} 不存在`))
    ]);
    const noSource = await calendarFile(
      "no-source.csv",
      ["2024-10-01,休,国庆节,2024"],
      "日期,类型,节日,年度"
    );
    expect((await readCalendarFile(noSource)).problems).toEqual([
      expect.stringContaining(`节假日表 ${noSource}: 缺少必需的列：「依据」`)
    ]);
    const extra = await calendarFile(
      "extra.csv",
      [`2024-10-01,休,国庆节,2024,${SOURCE},,x`],
      "日期,类型,节日,年度,依据,备注,说明"
    );
    expect((await readCalendarFile(extra)).problems).toEqual([
      expect.stringContaining(`节假日表 ${extra}: 不认识的列「说明」`)
    ]);
    const empty = await calendarFile("empty.csv", []);
    expect((await readCalendarFile(empty)).problems).toEqual([`节假日表 ${empty} 没有任何数据行`]);
  });
});

describe("a year the calendar lacks", () => {
  const row = (file: string, line: number, fields: Record<string, unknown>) =>
    ({...fields, source_file: file, source_line: line}) as LoadedRow;

  it("is every year from a decision to its report, and every year of a campaign", () => {
    const needed = yearsNeeded(
      new Map([
        ["dispositions", [row("处理结果.csv", 5, {decided_on: "2023-12-29", reported_on: "2025-01-02"})]],
        [
          "campaigns",
          [row("专项行动.csv", 2, {id: "ZX2017", start_date: "2017-05-15", end_date: "2017-11-30"})]
        ]
      ])
    );
    expect([...needed.keys()].sort()).toEqual([2017, 2023, 2024, 2025]);
    expect(needed.get(2024)).toBe("处理结果.csv 第 5 行（处理日期 2023-12-29，上报日期 2025-01-02）");
    expect(needed.get(2017)).toBe("专项行动.csv 第 2 行（专项行动 ZX2017，2017-05-15 至 2017-11-30）");
  });

  it("stops the ingest in Chinese, naming the year and the calendar file; the JS refuses the year too", async () => {
    const text = await readFile(SHIPPED, "utf8");
    const without2024 = text
      .split("\n")
      .filter((line) => !/^[^,]*,[^,]*,[^,]*,2024,/.test(line))
      .join("\n");
    const path = join(dir, "节假日-无2024.csv");
    await writeFile(path, without2024);
    const read = await readCalendarFile(path);
    expect(read.calendar!.years).toEqual([2018, 2019, 2020, 2021, 2022, 2023, 2025, 2026]);
    expect(() => isWorkingDay(calendarFromRows(read.calendar!.rows), "2024-05-10")).toThrow(
      /节假日表中没有 2024 年，无法计算工作日（节假日表已有：2018—2023、2025—2026 年）/
    );

    const input = join(ROOT, "data", "ningxia");
    const error = await ingest([input], {root: input, today: "2024-12-31", calendar: path}).catch(
      (e: unknown) => e
    );
    expect(error).toBeInstanceOf(IngestError);
    const problems = (error as IngestError).problems;
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      new RegExp(
        `^节假日表 ${path} 中没有 2024 年（已有：2018—2023、2025—2026 年），而数据需要 2024 年的工作日：.+ 第 \\d+ 行（`
      )
    );
    expect((error as IngestError).message).toContain("2024");

    const ok = await calendarForData(new Map(), path);
    expect(ok.problems).toEqual([]); // no record needs 2024: the same file is enough
  }, 60_000);
});
