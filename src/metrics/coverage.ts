/** 检查覆盖率: designated institutions inspected on site ÷ designated institutions. */
import {sqlQuery} from "../sql/template.js";
import {NOT_ON_SITE, PartsByCounty} from "./parts.js";
import type {Metric} from "./types.js";

export const coverage: Metric = {
  id: "coverage",
  name: "检查覆盖率",
  unit: "%",
  measure: {kind: "ratio", numerator: "现场检查过的机构数（去重）", denominator: "定点医药机构数"},
  cube: "institutions",
  direction: "higher",
  description:
    "现场检查过的定点医药机构数（去重）÷ 定点医药机构数。自查自纠和智能监控不算现场检查；按机构类型筛选时分子分母同时筛选。",
  parts: sqlQuery`SELECT county, 0 AS numerator, count(*) AS denominator FROM f_institutions GROUP BY county
UNION ALL
SELECT county, count(DISTINCT institution_code) AS numerator, 0 AS denominator FROM f_inspections
WHERE kind NOT IN ${[...NOT_ON_SITE]} GROUP BY county`,
  reference(data) {
    const parts = new PartsByCounty(true);
    for (const i of data.institutions) parts.add(i.county, 0, 1);
    const seen = new Set<string>();
    for (const s of data.inspections) {
      if ((NOT_ON_SITE as readonly string[]).includes(s.kind) || seen.has(s.institution_code)) continue;
      seen.add(s.institution_code);
      parts.add(s.county, 1, 0);
    }
    return parts.map;
  }
};
