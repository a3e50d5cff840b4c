// A small RFC 4180 reader for bulk plans: comma-separated, fields quoted with
// double quotes when they hold commas, quotes ("" inside) or newlines, CRLF or
// LF line ends. Blank lines and lines starting with # (outside quotes) are
// skipped, so a plan can carry comments. Each row keeps its line number.

export interface CsvRow {
  line: number;
  fields: string[];
}

export class CsvError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'CsvError';
  }
}

export function parseCsv(text: string): CsvRow[] {
  const rows: CsvRow[] = [];
  const s = text.replace(/^\uFEFF/, '');
  let i = 0;
  let line = 1;
  while (i < s.length) {
    // Start of a record: skip blank and comment lines (spaces and tabs before
    // the end of the line or the # too: an editor's indent, trailing blanks).
    let j = i;
    while (s[j] === ' ' || s[j] === '\t') j++;
    if (j === s.length || s[j] === '\n' || s[j] === '#' || (s[j] === '\r' && s[j + 1] === '\n')) i = j;
    if (i >= s.length) break;
    if (s[i] === '\n' || (s[i] === '\r' && s[i + 1] === '\n')) {
      i += s[i] === '\r' ? 2 : 1;
      line++;
      continue;
    }
    if (s[i] === '#') {
      while (i < s.length && s[i] !== '\n') i++;
      continue;
    }
    const start = line;
    const fields: string[] = [];
    let field = '';
    let quoted = false;
    let wasQuoted = false;
    for (;;) {
      if (i >= s.length) {
        if (quoted) throw new CsvError('a quoted field is not closed', start);
        fields.push(wasQuoted ? field : field.trim());
        break;
      }
      const c = s[i]!;
      if (quoted) {
        if (c === '"') {
          if (s[i + 1] === '"') {
            field += '"';
            i += 2;
          } else {
            quoted = false;
            i++;
          }
        } else {
          if (c === '\n') line++;
          field += c;
          i++;
        }
        continue;
      }
      if (c === '"') {
        if (field.trim() !== '' || wasQuoted) throw new CsvError('a quote in the middle of an unquoted field (quote the whole field and double the quotes inside)', line);
        field = '';
        quoted = true;
        wasQuoted = true;
        i++;
        continue;
      }
      if (c === ',') {
        fields.push(wasQuoted ? field : field.trim());
        field = '';
        wasQuoted = false;
        i++;
        continue;
      }
      if (c === '\n' || (c === '\r' && s[i + 1] === '\n')) {
        fields.push(wasQuoted ? field : field.trim());
        i += c === '\r' ? 2 : 1;
        line++;
        break;
      }
      if (wasQuoted) {
        if (c === ' ' || c === '\t') {
          i++;
          continue;
        }
        throw new CsvError('text after a closing quote', line);
      }
      field += c;
      i++;
    }
    rows.push({ line: start, fields });
  }
  return rows;
}
