// A small XML tag scanner for the zone configuration files (etc/zones/*.xml,
// SUNWdetached.xml): elements and attributes only. It skips the declaration,
// processing instructions, comments, DOCTYPE (with an internal subset),
// CDATA and character data; checks that tags nest; decodes the predefined
// and numeric character references; normalises attribute whitespace.

export class XmlError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(`${message} at offset ${offset}`);
    this.name = 'XmlError';
    this.offset = offset;
  }
}

export interface XmlTag {
  kind: 'open' | 'close';
  name: string;
  attrs: Map<string, string>;
  /** `<x/>`: an open tag immediately closed (no 'close' event follows). */
  selfClosing: boolean;
  /** Element depth: 0 for the root. */
  depth: number;
  offset: number;
}

const NAME = /[A-Za-z_:][-A-Za-z0-9_:.]*/y;
const SPACE = /[ \t\r\n]*/y;

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decode(raw: string, offset: number): string {
  // Literal whitespace in an attribute value is normalised to spaces first.
  const v = raw.replace(/[\t\n\r]/g, ' ');
  return v.replace(/&([^;&<]*);|&/g, (all, ref: string | undefined) => {
    if (ref === undefined) throw new XmlError('bare "&" in attribute value', offset);
    if (ref.startsWith('#x') || ref.startsWith('#X')) {
      if (!/^[0-9A-Fa-f]+$/.test(ref.slice(2))) throw new XmlError(`bad character reference &${ref};`, offset);
      return String.fromCodePoint(parseInt(ref.slice(2), 16));
    }
    if (ref.startsWith('#')) {
      if (!/^[0-9]+$/.test(ref.slice(1))) throw new XmlError(`bad character reference &${ref};`, offset);
      return String.fromCodePoint(parseInt(ref.slice(1), 10));
    }
    const e = ENTITIES[ref];
    if (e === undefined) throw new XmlError(`unknown entity ${all}`, offset);
    return e;
  });
}

function skipTo(text: string, from: number, end: string, what: string): number {
  const i = text.indexOf(end, from);
  if (i < 0) throw new XmlError(`unterminated ${what}`, from);
  return i + end.length;
}

/** End of a DOCTYPE declaration: quotes and an internal subset [...] respected. */
function skipDoctype(text: string, from: number): number {
  let depth = 0;
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (c === '"' || c === "'") {
      const j = text.indexOf(c, i + 1);
      if (j < 0) break;
      i = j;
    } else if (c === '[') depth++;
    else if (c === ']') depth--;
    else if (c === '>' && depth <= 0) return i + 1;
  }
  throw new XmlError('unterminated DOCTYPE', from);
}

export function* scanXml(text: string): Generator<XmlTag> {
  const stack: string[] = [];
  let sawRoot = false;
  let i = 0;
  for (;;) {
    const lt = text.indexOf('<', i);
    if (lt < 0) break;
    if (text.startsWith('<?', lt)) i = skipTo(text, lt + 2, '?>', 'processing instruction');
    else if (text.startsWith('<!--', lt)) i = skipTo(text, lt + 4, '-->', 'comment');
    else if (text.startsWith('<![CDATA[', lt)) i = skipTo(text, lt + 9, ']]>', 'CDATA section');
    else if (text.startsWith('<!', lt)) i = skipDoctype(text, lt + 2);
    else if (text.startsWith('</', lt)) {
      NAME.lastIndex = lt + 2;
      const m = NAME.exec(text);
      if (!m) throw new XmlError('bad end tag', lt);
      SPACE.lastIndex = NAME.lastIndex;
      SPACE.exec(text);
      if (text[SPACE.lastIndex] !== '>') throw new XmlError(`bad end tag </${m[0]}`, lt);
      const open = stack.pop();
      if (open !== m[0]) throw new XmlError(`end tag </${m[0]}> does not match <${open ?? ''}>`, lt);
      yield { kind: 'close', name: m[0], attrs: new Map(), selfClosing: false, depth: stack.length, offset: lt };
      i = SPACE.lastIndex + 1;
    } else {
      NAME.lastIndex = lt + 1;
      const m = NAME.exec(text);
      if (!m) throw new XmlError('bad tag', lt);
      if (stack.length === 0) {
        if (sawRoot) throw new XmlError(`second root element <${m[0]}>`, lt);
        sawRoot = true;
      }
      const attrs = new Map<string, string>();
      let j = NAME.lastIndex;
      let selfClosing = false;
      for (;;) {
        SPACE.lastIndex = j;
        SPACE.exec(text);
        const spaced = SPACE.lastIndex > j;
        j = SPACE.lastIndex;
        if (text[j] === '>') {
          j++;
          break;
        }
        if (text.startsWith('/>', j)) {
          selfClosing = true;
          j += 2;
          break;
        }
        if (!spaced) throw new XmlError(`bad attribute in <${m[0]}>`, j);
        NAME.lastIndex = j;
        const a = NAME.exec(text);
        if (!a) throw new XmlError(`bad attribute in <${m[0]}>`, j);
        SPACE.lastIndex = NAME.lastIndex;
        SPACE.exec(text);
        j = SPACE.lastIndex;
        if (text[j] !== '=') throw new XmlError(`attribute ${a[0]} has no value`, j);
        SPACE.lastIndex = j + 1;
        SPACE.exec(text);
        j = SPACE.lastIndex;
        const q = text[j];
        if (q !== '"' && q !== "'") throw new XmlError(`attribute ${a[0]} value is not quoted`, j);
        const end = text.indexOf(q, j + 1);
        if (end < 0) throw new XmlError(`unterminated attribute ${a[0]}`, j);
        const rawValue = text.slice(j + 1, end);
        if (rawValue.includes('<')) throw new XmlError(`"<" in attribute ${a[0]}`, j);
        if (attrs.has(a[0])) throw new XmlError(`duplicate attribute ${a[0]}`, j);
        attrs.set(a[0], decode(rawValue, j));
        j = end + 1;
      }
      yield { kind: 'open', name: m[0], attrs, selfClosing, depth: stack.length, offset: lt };
      if (!selfClosing) stack.push(m[0]);
      i = j;
    }
  }
  if (stack.length) throw new XmlError(`element <${stack[stack.length - 1]}> is not closed`, text.length);
  if (!sawRoot) throw new XmlError('no root element', 0);
}

const ATTR_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  '\t': '&#9;',
  '\n': '&#10;',
  '\r': '&#13;',
};

/** Escape an attribute value (double-quoted); refuses characters XML 1.0 cannot carry. */
export function escapeAttr(v: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]/.test(v)) {
    throw new RangeError(`value ${JSON.stringify(v)} has a control character XML cannot carry`);
  }
  return v.replace(/[&<>"'\t\n\r]/g, (c) => ATTR_ESCAPES[c]!);
}
