/** 发现违规问题数: violations found (findings), each counted once. */
import {PartsByCounty} from "./parts.js";
import {sqlQuery} from "../sql/template.js";
import type {Metric} from "./types.js";

export const findingsCount: Metric = {
  id: "findings",
  name: "发现违规问题数",
  unit: "件",
  measure: {kind: "total"},
  cube: "cells",
  direction: "higher",
  description: "检查中发现的违规问题条数（一次检查可发现多个问题）。",
  parts: sqlQuery`SELECT county, count(*) AS numerator, NULL AS denominator FROM f_findings GROUP BY county`,
  reference(data) {
    const parts = new PartsByCounty(false);
    for (const f of data.findings) parts.add(f.county, 1);
    return parts.map;
  }
};
