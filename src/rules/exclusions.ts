// Path filtering during unpack (solaris-p2v.md 2.3): the contents of dev,
// proc, tmp, var/run, system/contract and system/object are dropped while the
// directories themselves are kept; devices is dropped entirely; block and
// character device nodes anywhere are dropped (post_unpack), and so are
// sockets (no archive can carry a live one). A hard link whose target was
// excluded is dropped too, as it would point at nothing.

import { normPath } from './path.js';
import { defineRule } from './stage.js';

export const EXCLUSIONS = 'exclusions';

/** Directories whose contents are excluded (cpio patterns `<dir>/*`). */
export const CONTENTS_EXCLUDED = ['dev', 'proc', 'tmp', 'var/run', 'system/contract', 'system/object'] as const;

/** The reason an entry at `rel` is excluded by path, or null. Cheap: a switch on the first character. */
export function excludedReason(rel: string): string | null {
  switch (rel.charCodeAt(0)) {
    case 100: // d
      if (rel.startsWith('dev/')) return 'excluded dev/*';
      if (rel.startsWith('devices') && (rel.length === 7 || rel.charCodeAt(7) === 47)) return 'excluded devices';
      return null;
    case 112: // p
      return rel.startsWith('proc/') ? 'excluded proc/*' : null;
    case 116: // t
      return rel.startsWith('tmp/') ? 'excluded tmp/*' : null;
    case 118: // v
      return rel.startsWith('var/run/') ? 'excluded var/run/*' : null;
    case 115: // s
      if (rel.startsWith('system/contract/')) return 'excluded system/contract/*';
      if (rel.startsWith('system/object/')) return 'excluded system/object/*';
      return null;
    default:
      return null;
  }
}

export const exclusionsRule = defineRule(EXCLUSIONS, (ctx) => ({
  entry(e, rel) {
    const t = e.type;
    if (t === 'char' || t === 'block') {
      ctx.report.drop('device node');
      return null;
    }
    if (t === 'socket') {
      ctx.report.drop('socket');
      return null;
    }
    const why = excludedReason(rel);
    if (why !== null) {
      ctx.report.drop(why);
      return null;
    }
    if (t === 'hardlink' && e.linkTarget !== undefined && excludedReason(normPath(e.linkTarget)) !== null) {
      ctx.report.drop('hard link to an excluded path');
      ctx.report.add(EXCLUSIONS, rel, 'dropped', `hard link to excluded ${normPath(e.linkTarget)}`);
      return null;
    }
    return e;
  },
}));
