// Data loader: the first database file pages fetch (the undated cube and the small tables; the cube's
// tables by day are views on data/fundwatch-core.duckdb, the record tables on data/fundwatch.duckdb).
// Made with the other two, from one ingest (loaders/).
import {fileURLToPath} from "node:url";
import {runDatabaseLoader} from "../../loaders/fundwatch-db.js";

await runDatabaseLoader(process.stdout, fileURLToPath(new URL("../../", import.meta.url)), "first");
