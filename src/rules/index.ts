// The p2v rules in the order Solaris applies them (solaris-p2v.md 3.1):
// unpack filters first, then mk_zone_dirs, warn_zones, fix_lu, fix_net,
// fix_nfs, fix_vfstab, the SMF changes, rm_pkgs and sys-unconfig; last, the
// rule that keeps the report's path free.

import type { Entry } from '../entry.js';
import { dfstabRule } from './dfstab.js';
import { exclusionsRule } from './exclusions.js';
import { liveUpgradeRule } from './liveupgrade.js';
import { nestedZonesRule } from './nestedzones.js';
import { networkRule } from './network.js';
import { packagesRule } from './packages.js';
import { reportLogRule } from './reportlog.js';
import { smfRule } from './smf.js';
import { isStageRule, runStages, type Stage } from './stage.js';
import type { Rule, RuleContext } from './types.js';
import { unconfigureRule } from './unconfigure.js';
import { vfstabRule } from './vfstab.js';
import { zoneDirsRule } from './zonedirs.js';

export { reportEntry, reportPath } from './reportlog.js';
export { normPath, relPath } from './path.js';
export { defineRule, type Stage, type StageRule } from './stage.js';
export {
  dfstabRule,
  exclusionsRule,
  liveUpgradeRule,
  nestedZonesRule,
  networkRule,
  packagesRule,
  reportLogRule,
  smfRule,
  unconfigureRule,
  vfstabRule,
  zoneDirsRule,
};

export interface DefaultRulesOptions {
  /** Names of rules to leave out (e.g. "exclusions"). */
  skip?: readonly string[];
}

export const ALL_RULES: readonly Rule[] = [
  exclusionsRule,
  zoneDirsRule,
  nestedZonesRule,
  liveUpgradeRule,
  networkRule,
  dfstabRule,
  vfstabRule,
  smfRule,
  packagesRule,
  unconfigureRule,
  reportLogRule,
];

export function defaultRules(opts: DefaultRulesOptions = {}): Rule[] {
  const skip = new Set(opts.skip ?? []);
  for (const s of skip) if (!ALL_RULES.some((r) => r.name === s)) throw new Error(`unknown rule '${s}'`);
  return ALL_RULES.filter((r) => !skip.has(r.name));
}

/**
 * Chain rules over the stream. Consecutive rules built with defineRule run
 * fused in one loop; any other Rule is chained through its apply().
 */
export function applyRules(entries: AsyncIterable<Entry>, rules: readonly Rule[], ctx: RuleContext): AsyncIterable<Entry> {
  let out = entries;
  let group: Stage[] = [];
  const flush = () => {
    if (group.length) out = runStages(out, group, ctx);
    group = [];
  };
  for (const r of rules) {
    if (isStageRule(r)) group.push(r.start(ctx));
    else {
      flush();
      out = r.apply(out, ctx);
    }
  }
  flush();
  return out;
}
