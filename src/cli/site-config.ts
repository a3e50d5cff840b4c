// Site additions to the brand's lists (like /etc/brand/native/smf_disable.conf
// and pkgrm.conf): a JSON file {"disableServices": [...], "removePackages": [...]}.

import fs from 'node:fs';
import { UsageError } from '../errors.js';
import type { RuleContext } from '../rules/types.js';

/** The site additions from FILE; none when no file is given. */
export function loadSiteConfig(file: string | undefined): RuleContext['site'] {
  if (file === undefined) return { disableServices: [], removePackages: [] };
  let data: unknown;
  try {
    data = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UsageError(`--config ${file}: ${(e as Error).message}`);
  }
  const o = data as Record<string, unknown>;
  const list = (k: string): string[] => {
    const v = o[k] ?? [];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' && /^[A-Za-z0-9:/._,+-]+$/.test(x))) {
      throw new UsageError(`--config ${file}: "${k}" must be a list of service FMRIs or package names`);
    }
    return v as string[];
  };
  for (const k of Object.keys(o)) if (k !== 'disableServices' && k !== 'removePackages') throw new UsageError(`--config ${file}: unknown key "${k}"`);
  return { disableServices: list('disableServices'), removePackages: list('removePackages') };
}
