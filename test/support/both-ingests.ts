// While the ingest has two paths (issue 21): a test file that calls `bothIngests()` runs every `ingest()`
// on the JS path and on the DuckDB path, and fails where the two give different results or errors
// (see FUNDWATCH_INGEST in loaders/ingest.ts). Its assertions then hold for both.
import {afterAll, beforeAll, vi} from "vitest";

export function bothIngests(): void {
  beforeAll(() => {
    // Set by hand (FUNDWATCH_INGEST=sql npm test …) it wins: the file then runs the DuckDB path alone.
    if (process.env.FUNDWATCH_INGEST === undefined) vi.stubEnv("FUNDWATCH_INGEST", "both");
  });
  afterAll(() => {
    vi.unstubAllEnvs();
  });
}
