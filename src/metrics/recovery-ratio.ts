/** 追回率: recovered ÷ involved. */
import {sqlQuery} from "../sql/template.js";
import {RECOVERY_ACTIONS} from "../schema/actions.js";
import {PartsByCounty} from "./parts.js";
import type {Metric} from "./types.js";

export const recoveryRatio: Metric = {
  id: "recovery_ratio",
  name: "追回率",
  unit: "%",
  measure: {kind: "ratio", numerator: "追回、拒付、扣回金额", denominator: "违规问题涉及金额"},
  cube: "cells",
  direction: "higher",
  description: "追回、拒付、扣回金额之和 ÷ 违规问题涉及金额之和（同一筛选范围内）。",
  parts: sqlQuery`SELECT county, sum(amount) AS numerator, 0 AS denominator FROM f_dispositions
WHERE action IN ${[...RECOVERY_ACTIONS]} GROUP BY county
UNION ALL
SELECT county, 0 AS numerator, sum(amount_involved) AS denominator FROM f_findings GROUP BY county`,
  reference(data) {
    const parts = new PartsByCounty(true);
    for (const p of data.dispositions)
      if ((RECOVERY_ACTIONS as readonly string[]).includes(p.action)) parts.add(p.county, p.amount ?? 0, 0);
    for (const f of data.findings) parts.add(f.county, 0, f.amount_involved);
    return parts.map;
  }
};
