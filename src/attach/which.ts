// Find an executable on a PATH string, as a shell would.

import fs from 'node:fs/promises';
import path from 'node:path';

export async function findOnPath(cmd: string, pathVar: string | undefined): Promise<string | undefined> {
  for (const dir of (pathVar ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, cmd);
    try {
      const st = await fs.stat(p);
      if (!st.isFile()) continue;
      await fs.access(p, fs.constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}
