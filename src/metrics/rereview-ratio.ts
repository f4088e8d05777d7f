/** 复审比例: bills re-reviewed by hand ÷ bills reviewed (target ≥ 5% of inpatient bills). */
import {sqlQuery} from "../sql/template.js";
import {PartsByCounty} from "./parts.js";
import type {Metric} from "./types.js";

export const rereviewRatio: Metric = {
  id: "rereview_ratio",
  name: "单据复审比例",
  unit: "%",
  measure: {kind: "ratio", numerator: "复审单据数", denominator: "审核单据数"},
  cube: "cells",
  direction: "higher",
  description: "复审单据数 ÷ 审核单据数，只计两者都已填写的检查。专项行动目标为不低于 5%。",
  parts: sqlQuery`SELECT county, sum(bills_rereviewed) AS numerator, sum(bills_reviewed) AS denominator
FROM f_inspections WHERE bills_reviewed IS NOT NULL AND bills_rereviewed IS NOT NULL GROUP BY county`,
  reference(data) {
    const parts = new PartsByCounty(true);
    for (const s of data.inspections) {
      if (s.bills_reviewed !== null && s.bills_rereviewed !== null)
        parts.add(s.county, s.bills_rereviewed, s.bills_reviewed);
    }
    return parts.map;
  }
};
