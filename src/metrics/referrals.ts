/** 移交移送件数: cases referred to the police or to the discipline inspection commission. */
import {PartsByCounty, REFERRAL} from "./parts.js";
import {sqlQuery} from "../sql/template.js";
import type {Metric} from "./types.js";

export const referrals: Metric = {
  id: "referrals",
  name: "移交移送件数",
  unit: "件",
  direction: "higher",
  description: "处理方式为移交公安或移交纪检监察的件数。",
  parts: sqlQuery`SELECT county, count(*) AS numerator, NULL AS denominator FROM f_dispositions
WHERE action IN ${[...REFERRAL]} GROUP BY county`,
  reference(data) {
    const parts = new PartsByCounty(false);
    for (const p of data.dispositions)
      if ((REFERRAL as readonly string[]).includes(p.action)) parts.add(p.county, 1);
    return parts.map;
  }
};
