/** Every input dataset, in the order they are validated (a dataset may refer only to those before it). */
import {campaigns} from "./campaigns.js";
import type {Dataset} from "./dataset.js";
import {dispositions} from "./dispositions.js";
import {divisions} from "./divisions.js";
import {figures} from "./figures.js";
import {findings} from "./findings.js";
import {inspections} from "./inspections.js";
import {institutions} from "./institutions.js";
import {weeklyReports} from "./weekly.js";

export {campaigns, dispositions, divisions, figures, findings, inspections, institutions, weeklyReports};

export const DATASETS: readonly Dataset[] = [
  divisions,
  institutions,
  campaigns,
  inspections,
  findings,
  dispositions,
  weeklyReports,
  figures
] as unknown as readonly Dataset[];
