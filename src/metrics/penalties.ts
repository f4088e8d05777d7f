/** 行政处罚件数: administrative penalties, fines included. */
import {PartsByCounty, PENALTY} from "./parts.js";
import {sqlQuery} from "../sql/template.js";
import type {Metric} from "./types.js";

export const penalties: Metric = {
  id: "penalties",
  name: "行政处罚件数",
  unit: "件",
  direction: "higher",
  description: "处理方式为行政处罚或罚款的处理件数。",
  parts: sqlQuery`SELECT county, count(*) AS numerator, NULL AS denominator FROM f_dispositions
WHERE action IN ${[...PENALTY]} GROUP BY county`,
  reference(data) {
    const parts = new PartsByCounty(false);
    for (const p of data.dispositions)
      if ((PENALTY as readonly string[]).includes(p.action)) parts.add(p.county, 1);
    return parts.map;
  }
};
