// Archive paths as the attach stage matches them: relative to the image root.

/**
 * Strip leading "/" and "./" (repeated) from a raw archive path, then an
 * optional base prefix (e.g. "root/" for an archive made inside a zonepath).
 * Returns undefined when a prefix is given and the path is outside it.
 */
export function imagePath(raw: string, prefix?: string): string | undefined {
  let p = raw;
  for (;;) {
    if (p.startsWith('/')) p = p.slice(1);
    else if (p.startsWith('./')) p = p.slice(2);
    else break;
  }
  if (p.endsWith('/')) p = p.replace(/\/+$/, '');
  if (prefix) {
    const pre = prefix.endsWith('/') ? prefix : `${prefix}/`;
    if (p === pre.slice(0, -1)) return '';
    if (!p.startsWith(pre)) return undefined;
    p = p.slice(pre.length);
  }
  return p;
}
