/** 罚款金额: fines imposed. */
import {sqlQuery} from "../sql/template.js";
import {PartsByCounty} from "./parts.js";
import type {Metric} from "./types.js";

export const fines: Metric = {
  id: "fines",
  name: "罚款金额",
  unit: "元",
  measure: {kind: "total"},
  cube: "cells",
  direction: "higher",
  description: "处理方式为罚款的金额之和。",
  parts: sqlQuery`SELECT county, sum(amount) AS numerator, NULL AS denominator FROM f_dispositions
WHERE action = '罚款' GROUP BY county`,
  reference(data) {
    const parts = new PartsByCounty(false);
    for (const p of data.dispositions) if (p.action === "罚款") parts.add(p.county, p.amount ?? 0);
    return parts.map;
  }
};
