/** 涉及金额: the amount involved in the findings. */
import {sqlQuery} from "../sql/template.js";
import {PartsByCounty} from "./parts.js";
import type {Metric} from "./types.js";

export const amountInvolved: Metric = {
  id: "amount_involved",
  name: "涉及金额",
  unit: "元",
  measure: {kind: "total"},
  cube: "cells",
  direction: "neutral",
  description: "违规问题的涉及金额之和。",
  parts: sqlQuery`SELECT county, sum(amount_involved) AS numerator, NULL AS denominator FROM f_findings GROUP BY county`,
  reference(data) {
    const parts = new PartsByCounty(false);
    for (const f of data.findings) parts.add(f.county, f.amount_involved);
    return parts.map;
  }
};
