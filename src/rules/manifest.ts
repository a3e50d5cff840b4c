// A small, bounded scanner for SMF manifests: finds <service name=...>
// elements and, inside each, <instance name=...> and <create_default_instance>
// (which makes an instance named "default"), as `svccfg inventory` lists
// them. It skips comments, CDATA, processing instructions and the DOCTYPE
// (with its internal subset), so commented-out examples do not count. It is
// not a validating XML parser: malformed input yields what could be read.

export interface ManifestService {
  /** Service name as in the manifest, e.g. "network/physical". */
  name: string;
  instances: string[];
}

const MAX_SERVICES = 1000;
const MAX_INSTANCES = 1000;

function decodeEntities(s: string): string {
  if (s.indexOf('&') < 0) return s;
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);/g, (_m, g: string) => {
    switch (g) {
      case 'amp': return '&';
      case 'lt': return '<';
      case 'gt': return '>';
      case 'quot': return '"';
      case 'apos': return "'";
      default: {
        const cp = g[1] === 'x' ? parseInt(g.slice(2), 16) : parseInt(g.slice(1), 10);
        return cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : '';
      }
    }
  });
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

/** Services and their instances, in document order. */
export function scanManifest(text: string): ManifestService[] {
  const out: ManifestService[] = [];
  const stack: (ManifestService | null)[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    const lt = text.indexOf('<', i);
    if (lt < 0) break;
    if (text.startsWith('<!--', lt)) {
      const end = text.indexOf('-->', lt + 4);
      if (end < 0) break;
      i = end + 3;
      continue;
    }
    if (text.startsWith('<![CDATA[', lt)) {
      const end = text.indexOf(']]>', lt + 9);
      if (end < 0) break;
      i = end + 3;
      continue;
    }
    if (text.startsWith('<?', lt)) {
      const end = text.indexOf('?>', lt + 2);
      if (end < 0) break;
      i = end + 2;
      continue;
    }
    if (text.startsWith('<!', lt)) {
      // DOCTYPE or other declaration: skip to ">" outside [ ] and quotes.
      let depth = 0;
      let j = lt + 2;
      let q = 0;
      for (; j < n; j++) {
        const c = text.charCodeAt(j);
        if (q) { if (c === q) q = 0; continue; }
        if (c === 34 || c === 39) q = c;
        else if (c === 91) depth++;
        else if (c === 93) depth--;
        else if (c === 62 && depth <= 0) break;
      }
      i = j + 1;
      continue;
    }
    const closing = text.charCodeAt(lt + 1) === 47;
    let j = lt + (closing ? 2 : 1);
    const nameStart = j;
    while (j < n) {
      const c = text.charCodeAt(j);
      if (isSpace(c) || c === 62 || c === 47) break;
      j++;
    }
    const tag = text.slice(nameStart, j);
    // Attributes up to the closing ">" (quotes may hold ">").
    const attrs: Record<string, string> = {};
    let selfClosing = false;
    while (j < n) {
      const c = text.charCodeAt(j);
      if (c === 62) break;
      if (c === 47 && text.charCodeAt(j + 1) === 62) { selfClosing = true; j++; break; }
      if (isSpace(c)) { j++; continue; }
      const as = j;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (d === 61 || d === 62 || isSpace(d) || d === 47) break;
        j++;
      }
      const an = text.slice(as, j);
      while (j < n && isSpace(text.charCodeAt(j))) j++;
      if (text.charCodeAt(j) !== 61) { if (j === as) j++; continue; }
      j++;
      while (j < n && isSpace(text.charCodeAt(j))) j++;
      const q = text.charCodeAt(j);
      if (q === 34 || q === 39) {
        const end = text.indexOf(String.fromCharCode(q), j + 1);
        if (end < 0) { j = n; break; }
        attrs[an] = decodeEntities(text.slice(j + 1, end));
        j = end + 1;
      } else {
        const vs = j;
        while (j < n && !isSpace(text.charCodeAt(j)) && text.charCodeAt(j) !== 62) j++;
        attrs[an] = decodeEntities(text.slice(vs, j));
      }
    }
    i = j + 1;
    if (closing) {
      if (tag === 'service') stack.pop();
      continue;
    }
    const cur = stack.length ? stack[stack.length - 1]! : null;
    if (tag === 'service') {
      let svc: ManifestService | null = null;
      const name = attrs['name'];
      if (name !== undefined && out.length < MAX_SERVICES) {
        svc = { name, instances: [] };
        out.push(svc);
      }
      if (!selfClosing) stack.push(svc);
    } else if (cur && cur.instances.length < MAX_INSTANCES) {
      if (tag === 'instance' && attrs['name'] !== undefined) {
        if (!cur.instances.includes(attrs['name'])) cur.instances.push(attrs['name']);
      } else if (tag === 'create_default_instance') {
        if (!cur.instances.includes('default')) cur.instances.push('default');
      }
    }
  }
  return out;
}

/** FMRIs as `svccfg inventory` lists them: each instance, then the service. */
export function inventory(services: readonly ManifestService[]): string[] {
  const out: string[] = [];
  for (const s of services) {
    const base = `svc:/${s.name.replace(/^\/+/, '')}`;
    for (const inst of s.instances) out.push(`${base}:${inst}`);
    out.push(base);
  }
  return out;
}
