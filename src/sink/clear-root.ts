// Empty a zone root left by a failed earlier run (install --clean): depth
// first, never following a symlink, never crossing into another file system.
// Returns what could not be removed.

import fs from 'node:fs';

export function clearRoot(root: string): string[] {
  const rootSt = fs.lstatSync(root);
  if (!rootSt.isDirectory()) return [root];
  const left: string[] = [];
  const walk = (dir: Buffer): boolean => {
    let empty = true;
    for (const name of fs.readdirSync(dir, { encoding: 'buffer' }) as Buffer[]) {
      const p = Buffer.concat([dir, Buffer.from('/'), name]);
      const st = fs.lstatSync(p);
      if (st.dev !== rootSt.dev) {
        left.push(`${p.toString('utf8')} (another file system is mounted here)`);
        empty = false;
        continue;
      }
      try {
        if (st.isDirectory()) {
          if (walk(p)) fs.rmdirSync(p);
          else empty = false;
        } else {
          fs.unlinkSync(p);
        }
      } catch (e) {
        left.push(`${p.toString('utf8')} (${(e as NodeJS.ErrnoException).code})`);
        empty = false;
      }
    }
    return empty;
  };
  walk(Buffer.from(root));
  return left;
}
