// Live Upgrade state (solaris-p2v.md 3.8, fix_lu): when etc/lu exists, the
// regular files etc/lutab, etc/lu/.BE_CONFIG, etc/lu/.CURR_VARS,
// etc/lu/ludb.local.xml, etc/lu/ICF*, etc/lu/vtoc* and etc/lu/GRUB* are
// removed; symlinks are never removed. Files inside etc/lu prove that etc/lu
// exists; etc/lutab, which may come before etc/lu in the stream, is held
// (it is tiny) until the end, then dropped when etc/lu was seen.

import type { Entry } from '../entry.js';
import { deleteEntry, hold, type Held } from './make.js';
import { defineRule } from './stage.js';

export const LIVE_UPGRADE = 'live-upgrade';

const NAMED = new Set(['.BE_CONFIG', '.CURR_VARS', 'ludb.local.xml']);

/** True for a direct child name of etc/lu that fix_lu removes. */
export function luStateName(name: string): boolean {
  return NAMED.has(name) || name.startsWith('ICF') || name.startsWith('vtoc') || name.startsWith('GRUB');
}

/** etc/lu/<state file>, directly in etc/lu. */
function luStatePath(rel: string): boolean {
  return rel.startsWith('etc/lu/') && rel.indexOf('/', 7) < 0 && luStateName(rel.slice(7));
}

export const liveUpgradeRule = defineRule(LIVE_UPGRADE, (ctx) => {
  let luSeen = false;
  let lutab: Held | null = null;
  function remove(e: Entry, rel: string): null | Promise<null> {
    ctx.report.add(LIVE_UPGRADE, rel, 'deleted', 'Live Upgrade state');
    return deleteEntry(e);
  }
  return {
    firstChars: 'e',
    // A hard link is a regular file too: it is removed like one.
    wantsFile: (rel) => rel === 'etc/lutab' || luStatePath(rel),
    entry(e, rel) {
      if (rel.charCodeAt(0) !== 101 /* e */ || !rel.startsWith('etc/lu')) return e;
      if (rel === 'etc/lu') {
        luSeen = true;
        return e;
      }
      if (rel.startsWith('etc/lu/')) {
        luSeen = true;
        if (e.type === 'file' && luStatePath(rel)) return remove(e, rel);
        return e;
      }
      if (rel === 'etc/lutab' && e.type === 'file') {
        if (luSeen) return remove(e, rel);
        return hold(e).then((h) => {
          if (!h) return e; // too large to hold: not a lutab, keep it
          lutab = h;
          return null;
        });
      }
      return e;
    },
    finish() {
      if (!lutab) return null;
      if (luSeen) {
        ctx.report.add(LIVE_UPGRADE, 'etc/lutab', 'deleted', 'Live Upgrade state');
        return null;
      }
      return lutab.entry;
    },
  };
});
