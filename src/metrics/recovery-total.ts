/** 追回（拒付、扣回）金额: funds recovered, refused or deducted. */
import {sqlQuery} from "../sql/template.js";
import {RECOVERY_ACTIONS} from "../schema/actions.js";
import {PartsByCounty} from "./parts.js";
import type {Metric} from "./types.js";

export const recoveryTotal: Metric = {
  id: "recovery_total",
  name: "追回金额",
  unit: "元",
  measure: {kind: "total"},
  cube: "cells",
  direction: "higher",
  description: "处理方式为追回、拒付、扣回的金额之和（不含罚款）。",
  parts: sqlQuery`SELECT county, sum(amount) AS numerator, NULL AS denominator FROM f_dispositions
WHERE action IN ${[...RECOVERY_ACTIONS]} GROUP BY county`,
  reference(data) {
    const parts = new PartsByCounty(false);
    for (const p of data.dispositions)
      if ((RECOVERY_ACTIONS as readonly string[]).includes(p.action)) parts.add(p.county, p.amount ?? 0);
    return parts.map;
  }
};
