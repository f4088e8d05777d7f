/** 检查户数 : 发现问题 (Shandong 2019): institutions with problems per institution inspected. */
import {sqlQuery} from "../sql/template.js";
import {PartsByCounty} from "./parts.js";
import type {Metric} from "./types.js";

export const inspectionProblemBalance: Metric = {
  id: "inspection_problem_balance",
  name: "检查户数与发现问题户数之比",
  unit: "%",
  measure: {kind: "ratio", numerator: "发现问题的机构数（去重）", denominator: "被检查的机构数（去重）"},
  cube: "institutions",
  direction: "higher",
  description: "发现问题的机构数（去重）÷ 被检查的机构数（去重）。比值低说明“检查多、发现问题少”。",
  parts: sqlQuery`SELECT county, count(DISTINCT institution_code) FILTER (WHERE problem_found) AS numerator,
  count(DISTINCT institution_code) AS denominator
FROM f_inspections GROUP BY county`,
  reference(data) {
    const parts = new PartsByCounty(true);
    const inspected = new Set<string>();
    const withProblem = new Set<string>();
    for (const s of data.inspections) {
      if (!inspected.has(s.institution_code)) parts.add(s.county, 0, 1);
      inspected.add(s.institution_code);
      if (s.problem_found && !withProblem.has(s.institution_code)) parts.add(s.county, 1, 0);
      if (s.problem_found) withProblem.add(s.institution_code);
    }
    return parts.map;
  }
};
