// Data loader: the site's database file (units, recoveries, rejects, inputs, meta).
// The logic lives in loaders/; this file only runs it. Logs go to stderr, the file to stdout.
import {fileURLToPath} from "node:url";
import {runDatabaseLoader} from "../../loaders/fundwatch-db.js";

await runDatabaseLoader(process.stdout, fileURLToPath(new URL("../../", import.meta.url)));
