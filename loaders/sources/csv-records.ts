/**
 * CSV records read from text that arrives in pieces (a stream being decoded), exactly as d3-dsv's
 * `csvParseRows` reads the whole text, each with the physical line (1-based, as an editor shows it) on
 * which it starts. Only the record being read is held: a file of any size is read in the memory of one
 * piece and one record.
 *
 * d3-dsv's reading, kept to the letter (the tests compare it on generated texts cut at random places):
 * fields are split on `,` and records on `\n`, `\r\n` or `\r`; a field that starts with `"` runs to the
 * next `"` not doubled (`""` is one `"`), and the one character after its closing quote is consumed
 * whatever it is; a `"` inside an unquoted field is an ordinary character; one final `\n` and then one
 * final `\r` end the text without starting a record; a quoted value never closed runs to the end.
 */

const QUOTE = 34;
const COMMA = 44;
const NEWLINE = 10;
const RETURN = 13;

/** One record: its fields and the physical line it starts on. */
export interface CsvRecord {
  cells: string[];
  line: number;
}

/** What the end of the text tells (for the truncation checks). */
export interface CsvEnd {
  /** When the text ends inside a quoted value never closed: the physical line of its opening quote. */
  openQuoteLine?: number;
  /** The physical line of the text's last character that is not a line break (1 when there is none). */
  lastLine: number;
  /** Whether the text's last character is a line break (`\n` or `\r`). */
  endsWithBreak: boolean;
}

/** Thrown when one record grows past {@link CsvRecordReader}'s limit (an opening quote never closed, mostly). */
export class CsvRecordTooLong extends Error {
  constructor(
    readonly line: number,
    readonly chars: number
  ) {
    super(
      `第 ${line} 行起的一条记录超过 ${chars.toLocaleString("en-US")} 个字符仍未结束：多半是一个以引号（"）开头的值没有结束引号，其后的内容都被读成了这一个值。请检查该行后重新导出`
    );
  }
}

const EOL = Symbol("eol");
const EOF = Symbol("eof");
const MORE = Symbol("more");
type Token = string | typeof EOL | typeof EOF | typeof MORE;

/**
 * Reads records from pieces of text: {@link push} each piece in order and take the records it
 * completes, then {@link end} for the last ones. A leading U+FEFF (byte order mark) is not part of the
 * text.
 *
 * @example
 * ```ts
 * const reader = new CsvRecordReader();
 * reader.push('a,"b\nc"\r\nd'); // → [{cells: ["a", "b\nc"], line: 1}]
 * reader.end(); // → {records: [{cells: ["d"], line: 3}], end: {lastLine: 3, endsWithBreak: false}}
 * ```
 */
export class CsvRecordReader {
  /** The text not yet read: it starts at a record's start. */
  private buf = "";
  /** The physical line on which `buf` starts. */
  private line = 1;
  /** Whether any text was seen (the byte order mark is looked for in the first). */
  private started = false;
  /** For {@link CsvEnd}: line breaks seen, whether the last character was `\r`, the line of the last other one. */
  private breaks = 0;
  private afterReturn = false;
  private lastLine = 1;
  private lastChar = -1;

  /** @param maxRecordChars - how long one record may grow before {@link CsvRecordTooLong} (default 64 Mi characters) */
  constructor(private readonly maxRecordChars = 64 * 1024 * 1024) {}

  /** Adds the next piece of text; returns the records it completes, in order. */
  push(text: string): CsvRecord[] {
    if (text.length === 0) return [];
    if (!this.started) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    this.count(text);
    this.buf = this.buf.length === 0 ? text : this.buf + text;
    const records = this.read(false);
    if (this.buf.length > this.maxRecordChars) throw new CsvRecordTooLong(this.line, this.maxRecordChars);
    return records;
  }

  /** The end of the text: the records left, and what the end tells. */
  end(): {records: CsvRecord[]; end: CsvEnd} {
    const records = this.read(true);
    return {
      records,
      end: {
        ...(this.openQuoteLine === undefined ? {} : {openQuoteLine: this.openQuoteLine}),
        lastLine: this.lastLine,
        endsWithBreak: this.lastChar === NEWLINE || this.lastChar === RETURN
      }
    };
  }

  private openQuoteLine: number | undefined;

  /** Line breaks (`\r\n` is one) and the last character that is not one, over all the text pushed. */
  private count(text: string): void {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === NEWLINE) {
        if (!this.afterReturn) this.breaks++;
        this.afterReturn = false;
      } else if (c === RETURN) {
        this.breaks++;
        this.afterReturn = true;
      } else {
        this.afterReturn = false;
        this.lastLine = this.breaks + 1;
      }
    }
    this.lastChar = text.charCodeAt(text.length - 1);
  }

  /**
   * d3-dsv's parseRows over `buf`. Unless `final`, a token that would need text beyond `buf` to be
   * read as the whole text reads it (its end, the character after a closing quote or a `\r`) stops
   * the reading at the start of its record, which stays in `buf`.
   */
  private read(final: boolean): CsvRecord[] {
    const text = this.buf;
    let N = text.length;
    if (final) {
      if (text.charCodeAt(N - 1) === NEWLINE) --N;
      if (text.charCodeAt(N - 1) === RETURN) --N;
    }
    const records: CsvRecord[] = [];
    let I = 0;
    // As d3-dsv: whether the text is empty is asked before its final line break is taken off.
    let eof = final && text.length <= 0;
    let eol = false;
    let quoteAt = -1;
    const token = (): Token => {
      if (eof) return EOF;
      if (eol) {
        eol = false;
        return EOL;
      }
      const j = I;
      if (!final && j >= N) return MORE;
      if (text.charCodeAt(j) === QUOTE) {
        if (final) {
          // d3-dsv's loop, as it is written.
          while ((I++ < N && text.charCodeAt(I) !== QUOTE) || text.charCodeAt(++I) === QUOTE);
          const i = I;
          if (i > N) quoteAt = j;
          if (i >= N) eof = true;
          else {
            const c = text.charCodeAt(I++);
            if (c === NEWLINE) eol = true;
            else if (c === RETURN) {
              eol = true;
              if (text.charCodeAt(I) === NEWLINE) ++I;
            }
          }
          return text.slice(j + 1, i - 1).replace(/""/g, '"');
        }
        let k = j + 1;
        for (;;) {
          k = text.indexOf('"', k);
          // Not closed yet, or a quote whose next character (another quote?) is not here yet.
          if (k < 0 || k + 1 >= N) return MORE;
          if (text.charCodeAt(k + 1) === QUOTE) k += 2;
          else break;
        }
        I = k + 1;
        const c = text.charCodeAt(I++);
        if (c === NEWLINE) eol = true;
        else if (c === RETURN) {
          if (I >= N) return MORE;
          eol = true;
          if (text.charCodeAt(I) === NEWLINE) ++I;
        }
        return text.slice(j + 1, k).replace(/""/g, '"');
      }
      while (I < N) {
        const i = I++;
        const c = text.charCodeAt(i);
        if (c === NEWLINE) eol = true;
        else if (c === RETURN) {
          if (!final && I >= N) return MORE;
          eol = true;
          if (text.charCodeAt(I) === NEWLINE) ++I;
        } else if (c !== COMMA) continue;
        return text.slice(j, i);
      }
      if (!final) return MORE;
      eof = true;
      return text.slice(j, N);
    };

    // Lines are counted from `at` (a record's start) onward.
    // (A record never starts between the \r and \n of one line break.)
    let at = 0;
    let line = this.line;
    let afterReturn = false;
    const lineOf = (to: number): number => {
      for (; at < to; at++) {
        const c = text.charCodeAt(at);
        if (c === NEWLINE && !afterReturn) line++;
        else if (c === RETURN) line++;
        afterReturn = c === RETURN;
      }
      return line;
    };

    let done = 0;
    for (;;) {
      const start = I;
      let t = token();
      if (t === EOF || t === MORE) break;
      const cells: string[] = [];
      while (t !== EOL && t !== EOF && t !== MORE) {
        cells.push(t);
        t = token();
      }
      if (t === MORE) break;
      records.push({cells, line: lineOf(start)});
      done = I;
    }
    if (quoteAt >= 0) this.openQuoteLine = lineOf(quoteAt);
    if (final) {
      this.buf = "";
      return records;
    }
    lineOf(done);
    this.line = line;
    this.buf = text.slice(done);
    return records;
  }
}

/**
 * Every record of a whole text, with their lines, and what its end tells: {@link CsvRecordReader} in
 * one piece.
 */
export function csvRecords(text: string): {records: CsvRecord[]; end: CsvEnd} {
  const reader = new CsvRecordReader(Number.POSITIVE_INFINITY);
  const first = reader.push(text);
  const {records, end} = reader.end();
  return {records: [...first, ...records], end};
}
