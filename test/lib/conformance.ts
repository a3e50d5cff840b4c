// Where the shared conformance corpus is: beside the repository (../shared,
// as on a developer's machine and in CI), or where ZONEP2V_CONFORMANCE says.

import fs from 'node:fs';
import path from 'node:path';

function locate(): string {
  if (process.env.ZONEP2V_CONFORMANCE) return process.env.ZONEP2V_CONFORMANCE;
  for (const c of [path.resolve('..', 'shared', 'conformance'), '/work/shared/conformance']) if (fs.existsSync(c)) return c;
  return path.resolve('..', 'shared', 'conformance');
}

export const CONFORMANCE_DIR = locate();
