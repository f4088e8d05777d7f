// The ingest's tables as the metrics' JS references read them (plain objects, BIGINT fen as numbers):
// one conversion for every test that compares the SQL with the references.
import type {IngestResult} from "../../loaders/ingest.js";
import type {ReconcileData} from "../../src/metrics/index.js";

/** Every table of `result` the references read, with the calendar's rows. */
export function metricDataOf(result: IngestResult): ReconcileData {
  const rows = (name: string) =>
    (result.tables.get(name) ?? []).map((r) =>
      Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === "bigint" ? Number(v) : v]))
    );
  return {
    divisions: rows("divisions"),
    campaigns: rows("campaigns"),
    institutions: rows("institutions"),
    inspections: rows("inspections"),
    findings: rows("findings"),
    dispositions: rows("dispositions"),
    weekly_reports: rows("weekly_reports"),
    calendar: result.calendar.rows
  } as unknown as ReconcileData;
}
