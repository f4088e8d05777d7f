/** 问题发现率: inspections that found a problem ÷ inspections. */
import {sqlQuery} from "../sql/template.js";
import {PartsByCounty} from "./parts.js";
import type {Metric} from "./types.js";

export const problemRate: Metric = {
  id: "problem_rate",
  name: "问题发现率",
  unit: "%",
  measure: {kind: "ratio", numerator: "发现问题的检查次数", denominator: "检查次数"},
  cube: "cells",
  direction: "higher",
  description: "发现问题的检查次数 ÷ 检查次数（含各种检查方式）。",
  parts: sqlQuery`SELECT county, count(*) FILTER (WHERE problem_found) AS numerator, count(*) AS denominator
FROM f_inspections GROUP BY county`,
  reference(data) {
    const parts = new PartsByCounty(true);
    for (const s of data.inspections) parts.add(s.county, s.problem_found ? 1 : 0, 1);
    return parts.map;
  }
};
