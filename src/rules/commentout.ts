// The rewrite fix_vfstab and fix_nfs share (solaris-p2v.md 3.5, 3.6): per
// line, with awk's field split, a line whose first field starts with "#" is
// kept, a line the file's `keep` test accepts is kept, any other line becomes
// "# " + line. When anything changed: "# Modified by p2v <date>" is
// appended, the result is root:sys 0644, and the original is saved as
// <file>.pre_p2v, but only when the image has no such file: that backup is
// emitted at the end of the stream, once it is known whether the image
// carries its own (the image's copy wins, as Solaris copies "only if absent").
//
// Blank lines are kept as they are (Solaris's awk turns them into "# ", a
// wart listed in solaris-p2v.md 6.13; keeping them changes nothing else).

import type { Entry } from '../entry.js';
import { addedFile, hold, ROOT, SYS, withBody } from './make.js';
import { defineRule, type StageRule } from './stage.js';
import { fields, fromLines, p2vTrailer, toLines } from './text.js';
import type { RuleContext } from './types.js';

export interface CommentOutSpec {
  name: string;
  /** Normalised path of the file. */
  file: string;
  /** Line fields (first field not a comment, line not blank) that stay active. */
  keep(f: string[]): boolean;
  /** Set root:sys 0644 even when no line changed. */
  ownerAlways: boolean;
}

const CAP = 16 * 1024 * 1024;

/** Rewrite the lines of one file; null when nothing changed. */
export function commentOut(buf: Buffer, keep: (f: string[]) => boolean, ctx: RuleContext): { buf: Buffer; changed: number } | null {
  const lines = toLines(buf);
  let changed = 0;
  const out = lines.map((line) => {
    const f = fields(line);
    if (f.length === 0 || f[0]!.startsWith('#') || keep(f)) return line;
    changed++;
    return `# ${line}`;
  });
  if (changed === 0) return null;
  out.push(p2vTrailer(ctx));
  return { buf: fromLines(out), changed };
}

export function commentOutRule(spec: CommentOutSpec): StageRule {
  const backup = `${spec.file}.pre_p2v`;
  const label = `/${spec.file}`;
  return defineRule(spec.name, (ctx) => {
    let backupSeen = false;
    let original: Entry | null = null;
    let originalBuf: Buffer | null = null;

    async function rewrite(e: Entry): Promise<Entry> {
      const h = await hold(e, CAP);
      if (!h) {
        ctx.report.add(spec.name, spec.file, 'not changed', `over ${CAP} bytes`);
        return e;
      }
      const r = commentOut(h.buf, spec.keep, ctx);
      if (!r) {
        if (spec.ownerAlways && (e.uid !== ROOT || e.gid !== SYS || e.mode !== 0o644)) {
          ctx.report.add(spec.name, spec.file, 'owner and mode set', 'root:sys 0644');
          return withBody(h.entry, h.buf, { uid: ROOT, gid: SYS, mode: 0o644 });
        }
        return h.entry;
      }
      original = h.entry;
      originalBuf = h.buf;
      ctx.report.add(spec.name, spec.file, 'commented out', `${r.changed} line${r.changed === 1 ? '' : 's'}`);
      return withBody(h.entry, r.buf, { uid: ROOT, gid: SYS, mode: 0o644 });
    }

    return {
      firstChars: spec.file.charAt(0),
      wantsFile: (rel) => rel === spec.file,
      entry(e, rel) {
        if (rel.length < spec.file.length || rel.charCodeAt(0) !== spec.file.charCodeAt(0)) return e;
        if (rel === backup) {
          backupSeen = true;
          return e;
        }
        if (rel !== spec.file) return e;
        if (e.type !== 'file') {
          ctx.report.add(spec.name, spec.file, 'not changed', `Invalid '${label}' file within the zone (${e.type})`);
          return e;
        }
        return rewrite(e);
      },
      finish() {
        if (!original || !originalBuf) return null;
        if (backupSeen) {
          ctx.report.add(spec.name, backup, 'kept', "the image's own backup (not replaced)");
          return null;
        }
        const o: Entry = original;
        ctx.report.add(spec.name, backup, 'created', `copy of the original ${label}`);
        return addedFile(backup, originalBuf, { mode: o.mode, uid: o.uid, gid: o.gid }, ctx);
      },
    };
  });
}
