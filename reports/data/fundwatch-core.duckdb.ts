// Data loader: the small database file pages fetch first (the cube and the small tables; the record
// tables are views on data/fundwatch.duckdb). Made with the full file, from one ingest (loaders/).
import {fileURLToPath} from "node:url";
import {runDatabaseLoader} from "../../loaders/fundwatch-db.js";

await runDatabaseLoader(process.stdout, fileURLToPath(new URL("../../", import.meta.url)), "core");
