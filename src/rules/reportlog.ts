// The p2v report saved in the zone as var/log/<zone>.p2v.log. The CLI calls
// reportEntry(ctx) after the last entry; reportLogRule (last in the default
// list) drops any copy the image already carries, so that the path is
// written once.

import type { Entry } from '../entry.js';
import { addedFile, ROOT } from './make.js';
import { defineRule } from './stage.js';
import { solarisDate } from './text.js';
import type { RuleContext } from './types.js';

export const REPORT_LOG = 'report-log';

export function reportPath(ctx: RuleContext): string {
  return `var/log/${ctx.zone.name.replace(/[\/\x00]/g, '_')}.p2v.log`;
}

/** The report as a file entry (root:root 0644, like Solaris's install log copy). */
export function reportEntry(ctx: RuleContext): Entry {
  const text = `# zonep2v: changes made to the image of zone ${ctx.zone.name} on ${solarisDate(ctx.date)}\n${ctx.report.toText()}`;
  return addedFile(reportPath(ctx), text, { mode: 0o644, uid: ROOT, gid: ROOT }, ctx);
}

export const reportLogRule = defineRule(REPORT_LOG, (ctx) => {
  const path = reportPath(ctx);
  return {
    firstChars: path.charAt(0),
    entry(e, rel) {
      if (rel !== path) return e;
      ctx.report.add(REPORT_LOG, rel, 'dropped', 'replaced by the report of this run');
      return null;
    },
  };
});
