// Data loader: the SDK reference (every export of src/index.ts with its signature, JSDoc and examples),
// read from the source by scripts/sdk-docs.ts, the same reader test/unit/sdk-docs.test.ts checks.
import {fileURLToPath} from "node:url";
import {sdkDocs} from "../../scripts/sdk-docs.js";

const docs = sdkDocs(fileURLToPath(new URL("../../", import.meta.url))).map(
  ({name, kind, file, signature, summary, params, returns, examples}) => ({
    name,
    kind,
    file,
    signature,
    summary,
    params,
    returns,
    examples
  })
);
process.stdout.write(JSON.stringify(docs));
