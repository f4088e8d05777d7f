/** 行政处罚件数: administrative penalties, fines included. */
import {actionCount, PENALTY} from "./parts.js";
import type {Metric} from "./types.js";

export const penalties: Metric = {
  id: "penalties",
  name: "行政处罚件数",
  unit: "件",
  measure: {kind: "total"},
  cube: "cells",
  direction: "higher",
  description: "处理方式为行政处罚或罚款的处理件数。",
  ...actionCount(PENALTY)
};
