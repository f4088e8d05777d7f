/**
 * The SDK reference, read from the source: every value export of `src/index.ts` (not the types, not
 * the re-exported libraries `Plot`, `d3`, `Inputs`, `html`), followed to its declaration, with its
 * signature as the TypeScript checker prints it and its JSDoc (summary, `@param`, `@returns`,
 * `@example`). One Program over `src/index.ts`; the order is the order of `src/index.ts`.
 *
 * `npx tsx scripts/sdk-docs.ts` prints it as JSON; `test/unit/sdk-docs.test.ts` checks and runs it.
 */
import {relative, resolve} from "node:path";
import {fileURLToPath} from "node:url";
import ts from "typescript";

/** The libraries `src/index.ts` re-exports for pages; documented by their own projects. */
export const REEXPORTED_LIBRARIES: readonly string[] = ["Plot", "d3", "Inputs", "html"];

/** A `@param` tag: `name` may be dotted (`options.unit`) for one option of an options object. */
export interface SdkParam {
  name: string;
  text: string;
}

/** One option (property) of an options-object parameter, from the parameter's type. */
export interface SdkOption {
  name: string;
  optional: boolean;
}

/** A declared parameter, as the checker sees it. */
export interface SdkParameter {
  /** The declared name; `null` for a destructured parameter (`{level, filter}`). */
  name: string | null;
  /** Declared with `?`, with a default value, or a rest parameter. */
  optional: boolean;
  /**
   * The options of an options object (a parameter named `options`/`opts`, a destructured one, or one
   * whose type is an object type with only optional properties, other than a `…Filter`); else null.
   */
  options: SdkOption[] | null;
}

export interface SdkDoc {
  name: string;
  kind: "function" | "constant" | "class";
  /** Repo-relative, with `/`. */
  file: string;
  /** 1-based line of the declaration. */
  line: number;
  /** As the checker prints it: `formatMoney(fen: number | bigint, options?: FormatMoneyOptions): string`. */
  signature: string;
  summary: string;
  params: SdkParam[];
  returns: string;
  /** The code of each `@example`, without the ``` fences. */
  examples: string[];
  /** 1-based line in `file` of each example's first line of code. */
  exampleLines: number[];
  /** The parameters of the (first) call signature; of the constructor for a class; empty for a constant. */
  parameters: SdkParameter[];
}

/** Whole types, by the names they are declared with (`RecoveryDimension`, not its union). */
const FORMAT = ts.TypeFormatFlags.NoTruncation | ts.TypeFormatFlags.UseAliasDefinedOutsideCurrentScope;

const ROOT = resolve(fileURLToPath(import.meta.url), "..", "..");

function commentText(comment: string | ts.NodeArray<ts.JSDocComment> | undefined): string {
  return (ts.getTextOfJSDocComment(comment) ?? "").trim();
}

/** The declaration an export resolves to. */
function declarationOf(symbol: ts.Symbol): ts.Declaration | undefined {
  return symbol.valueDeclaration ?? symbol.declarations?.[0];
}

/** The node whose JSDoc documents `decl`: a variable's statement carries the comment. */
function jsDocHost(decl: ts.Declaration): ts.Node {
  return ts.isVariableDeclaration(decl) ? decl.parent.parent : decl;
}

/** The @example code: fences and common indentation removed; the source line of its first line. */
function exampleOf(tag: ts.JSDocTag, sourceFile: ts.SourceFile): {code: string; line: number} {
  // The raw comment text, so that line numbers stay those of the file.
  const raw = sourceFile.text.slice(tag.tagName.end, tag.end);
  const lines = raw
    .split("\n")
    .map((l, i) => (i === 0 ? l : l.replace(/^\s*\*(?: |$)/, "")).replace(/\s*\*\/\s*$/, "").trimEnd());
  let first = sourceFile.getLineAndCharacterOfPosition(tag.getStart(sourceFile)).line + 1;
  // Leading blank lines (the rest of the `@example` line) and an opening fence: count them, drop them.
  while (lines.length > 0 && /^\s*(?:```\w*)?$/.test(lines[0] ?? "")) {
    lines.shift();
    ++first;
  }
  while (lines.length > 0 && /^\s*(?:```)?$/.test(lines.at(-1) ?? "")) lines.pop();
  const indents = lines.filter((l) => l.trim() !== "").map((l) => l.length - l.trimStart().length);
  const indent = indents.length > 0 ? Math.min(...indents) : 0;
  return {code: lines.map((l) => l.slice(indent)).join("\n"), line: first};
}

/** An options bag by its type: an object type with only optional properties, not a `…Filter`. */
function isOptionsType(type: ts.Type, checker: ts.TypeChecker): boolean {
  if (!(type.flags & ts.TypeFlags.Object)) return false;
  if (checker.isArrayType(type) || checker.isTupleType(type)) return false;
  if (type.getCallSignatures().length > 0 || type.getConstructSignatures().length > 0) return false;
  const name = (type.aliasSymbol ?? type.getSymbol())?.getName() ?? "";
  if (/Filter$/.test(name)) return false;
  const props = type.getProperties();
  return props.length > 0 && props.every((p) => (p.flags & ts.SymbolFlags.Optional) !== 0);
}

function parametersOf(signature: ts.Signature, checker: ts.TypeChecker): SdkParameter[] {
  return signature.getParameters().map((p) => {
    const decl = p.valueDeclaration as ts.ParameterDeclaration | undefined;
    const name = decl && !ts.isIdentifier(decl.name) ? null : p.getName();
    const optional = decl ? checker.isOptionalParameter(decl) || decl.dotDotDotToken !== undefined : false;
    const type = checker.getNonNullableType(checker.getTypeOfSymbol(p));
    const isOptions =
      name === null ? !!decl && ts.isObjectBindingPattern(decl.name) : /^opt(ion)?s$/.test(name);
    const isObject =
      (type.flags & (ts.TypeFlags.Object | ts.TypeFlags.Intersection)) !== 0 && !checker.isArrayType(type);
    const options =
      isObject && (isOptions || isOptionsType(type, checker))
        ? checker
            .getPropertiesOfType(type)
            .map((o) => ({name: o.getName(), optional: (o.flags & ts.SymbolFlags.Optional) !== 0}))
        : null;
    return {name, optional, options};
  });
}

/** The SDK reference of the project at `root` (default: this repository). */
export function sdkDocs(root: string = ROOT): SdkDoc[] {
  const entry = resolve(root, "src", "index.ts");
  const program = ts.createProgram([entry], {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ["lib.es2022.d.ts", "lib.dom.d.ts", "lib.dom.iterable.d.ts"],
    types: ["node"],
    strict: true,
    skipLibCheck: true,
    noEmit: true
  });
  const checker = program.getTypeChecker();
  const sourceFile = program.getSourceFile(entry);
  if (!sourceFile) throw new Error(`找不到 ${entry}`);
  const moduleSymbol = checker.getSymbolAtLocation(sourceFile);
  if (!moduleSymbol) throw new Error(`${entry} 不是模块`);
  const docs: SdkDoc[] = [];
  for (const exported of checker.getExportsOfModule(moduleSymbol)) {
    const name = exported.getName();
    if (REEXPORTED_LIBRARIES.includes(name)) continue;
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    if (!(symbol.flags & ts.SymbolFlags.Value)) continue;
    const decl = declarationOf(symbol);
    if (!decl) throw new Error(`${name}: 找不到声明`);
    const file = decl.getSourceFile();
    const line = file.getLineAndCharacterOfPosition(decl.getStart(file)).line + 1;
    const type = checker.getTypeOfSymbolAtLocation(symbol, decl);
    let kind: SdkDoc["kind"];
    let signature: string;
    let parameters: SdkParameter[] = [];
    if (symbol.flags & ts.SymbolFlags.Class) {
      kind = "class";
      const ctor = type.getConstructSignatures()[0];
      parameters = ctor ? parametersOf(ctor, checker) : [];
      // `new QueryError(message: string, …)`: the constructor's parameters, without its return type.
      const printed = ctor ? checker.signatureToString(ctor, undefined, FORMAT) : "()";
      signature = `new ${name}${printed.replace(/: [^:]+$/, "")}`;
    } else if (
      symbol.flags & ts.SymbolFlags.Function ||
      (ts.isVariableDeclaration(decl) &&
        decl.initializer &&
        (ts.isArrowFunction(decl.initializer) || ts.isFunctionExpression(decl.initializer)))
    ) {
      kind = "function";
      const call = type.getCallSignatures()[0];
      if (!call) throw new Error(`${name}: 没有调用签名`);
      parameters = parametersOf(call, checker);
      signature = `${name}${checker.signatureToString(call, undefined, FORMAT)}`;
    } else {
      kind = "constant";
      signature = `${name}: ${checker.typeToString(type, undefined, FORMAT)}`;
    }
    const host = jsDocHost(decl);
    const jsDocs = ts.getJSDocCommentsAndTags(host).filter(ts.isJSDoc);
    const last = jsDocs.at(-1);
    const tags = last?.tags ?? [];
    const params: SdkParam[] = [];
    let returns = "";
    const examples: string[] = [];
    const exampleLines: number[] = [];
    for (const tag of tags) {
      if (ts.isJSDocParameterTag(tag)) {
        params.push({
          name: ts.isIdentifier(tag.name) ? tag.name.text : tag.name.getText(file),
          text: commentText(tag.comment).replace(/^-\s*/, "")
        });
      } else if (ts.isJSDocReturnTag(tag)) {
        returns = commentText(tag.comment);
      } else if (tag.tagName.text === "example") {
        const example = exampleOf(tag, file);
        examples.push(example.code);
        exampleLines.push(example.line);
      }
    }
    docs.push({
      name,
      kind,
      file: relative(root, file.fileName).split("\\").join("/"),
      line,
      signature,
      summary: commentText(last?.comment),
      params,
      returns,
      examples,
      exampleLines,
      parameters
    });
  }
  return docs;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  console.log(JSON.stringify(sdkDocs(), null, 2));
}
