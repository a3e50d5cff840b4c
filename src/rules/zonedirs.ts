// Directories and files a zone needs, created when the image lacks them
// (solaris-p2v.md 3.2, mk_zone_dirs). The rule notes which of these paths
// (and their parents) pass, and at the end of the stream adds the missing
// ones, never below a symlink. Owners follow the Solaris packages (root:sys,
// /proc and /etc/mnttab root:root); modes are those of 3.2.

import type { EntryType } from '../entry.js';
import { addedDir, addedFile, ROOT, SYS, type Perm } from './make.js';
import { defineRule } from './stage.js';
import type { Entry } from '../entry.js';

export const ZONE_DIRS = 'zone-dirs';

interface Wanted {
  path: string;
  type: 'dir' | 'file';
  perm: Perm;
  /** Paths that must not be symlinks for this one to be created. */
  noSymlink: string[];
}

export const ZONE_PATHS: readonly Wanted[] = [
  { path: 'tmp', type: 'dir', perm: { mode: 0o1777, uid: ROOT, gid: SYS }, noSymlink: [] },
  { path: 'var/run', type: 'dir', perm: { mode: 0o1755, uid: ROOT, gid: SYS }, noSymlink: ['var'] },
  { path: 'var/tmp', type: 'dir', perm: { mode: 0o1777, uid: ROOT, gid: SYS }, noSymlink: ['var'] },
  { path: 'etc/mnttab', type: 'file', perm: { mode: 0o444, uid: ROOT, gid: ROOT }, noSymlink: ['etc'] },
  { path: 'proc', type: 'dir', perm: { mode: 0o755, uid: ROOT, gid: ROOT }, noSymlink: [] },
  { path: 'dev', type: 'dir', perm: { mode: 0o755, uid: ROOT, gid: SYS }, noSymlink: [] },
  { path: 'etc/svc/volatile', type: 'dir', perm: { mode: 0o755, uid: ROOT, gid: SYS }, noSymlink: ['etc', 'etc/svc'] },
];

const PARENT_PERM: Perm = { mode: 0o755, uid: ROOT, gid: SYS };
const TRACKED = new Set<string>(['var', 'etc', 'etc/svc', ...ZONE_PATHS.map((w) => w.path)]);
const MAXLEN = Math.max(...[...TRACKED].map((p) => p.length));
const FIRST_CHARS = [...new Set([...TRACKED].map((p) => p.charAt(0)))].join('');

export const zoneDirsRule = defineRule(ZONE_DIRS, (ctx) => {
  const seen = new Map<string, EntryType>();
  return {
    firstChars: FIRST_CHARS,
    entry(e, rel) {
      if (rel.length <= MAXLEN && TRACKED.has(rel)) seen.set(rel, e.type);
      return e;
    },
    finish() {
      const out: Entry[] = [];
      for (const w of ZONE_PATHS) {
        if (seen.has(w.path)) continue;
        const blocked = w.noSymlink.find((p) => seen.get(p) === 'symlink');
        if (blocked !== undefined) {
          ctx.report.add(ZONE_DIRS, w.path, 'not created', `${blocked} is a symlink`);
          continue;
        }
        // Parents first, when the image has none (never through a non-directory).
        const parts = w.path.split('/');
        let ok = true;
        for (let i = 1; i < parts.length && ok; i++) {
          const p = parts.slice(0, i).join('/');
          const t = seen.get(p);
          if (t === undefined) {
            out.push(addedDir(p, PARENT_PERM, ctx));
            seen.set(p, 'dir');
            ctx.report.add(ZONE_DIRS, p, 'created', 'directory 0755 (parent)');
          } else if (t !== 'dir') {
            ctx.report.add(ZONE_DIRS, w.path, 'not created', `${p} is not a directory`);
            ok = false;
          }
        }
        if (!ok) continue;
        out.push(w.type === 'dir' ? addedDir(w.path, w.perm, ctx) : addedFile(w.path, '', w.perm, ctx));
        seen.set(w.path, w.type);
        ctx.report.add(ZONE_DIRS, w.path, 'created', `${w.type === 'dir' ? 'directory' : 'empty file'} ${w.perm.mode.toString(8).padStart(4, '0')}`);
      }
      return out;
    },
  };
});
