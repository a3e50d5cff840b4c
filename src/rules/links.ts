// Hard links and the files p2v changes. An archive names a hard link's
// target by the path of an earlier entry, and the link shares that file's
// content; two cases break when a rule changes one of the names:
//
// - the link lies at a path a rule rewrites (etc/vfstab linked to a copy
//   kept elsewhere): on Solaris the name is a regular file like any other
//   and p2v rewrites it, so the link becomes a regular file with the
//   target's content, which the rule then sees;
// - the link points at a file a rule read and then changed, or has not
//   passed on (held back until the end, deleted, renamed): the link would
//   point at nothing (the sink would fail the install) or at content p2v
//   wrote for the other name, so it becomes a regular file with the content
//   the name had, as `rm`, `mv` or a rewrite through a new file leave it on
//   Solaris. Further links to the same target link to that file.
//
// Either way the names outside the rules' paths keep the image's content,
// whatever the order of the names in the archive.
//
// Rules that follow a rename themselves (network, unconfigure) see such
// links first; what reaches this point is what no rule took care of.

import { bodyBuffer, bodyRead, bufferBody, copyEntry, type Entry } from '../entry.js';
import { normPath } from './path.js';
import type { Stage } from './stage.js';
import type { RuleContext } from './types.js';

export const LINKS = 'links';

/** Largest file a link at a rewritten path is resolved into (the rules' own cap is 16 MiB). */
const CAP = 16 * 1024 * 1024;

/** A file a rule read and has not passed on under its name (yet), or passed on changed. */
interface Taken {
  /** The content read, and the entry it came from (owner, mode, times). */
  buf: Buffer;
  entry: Entry;
  /** The name that took over the content for later links, once one did. */
  now: string | null;
}

export class LinkMend {
  /** Read by a rule and not (yet) passed on, by normalised path. */
  private readonly taken = new Map<string, Taken>();
  private readonly wanting: Stage[];

  constructor(
    stages: readonly Stage[],
    private readonly ctx: RuleContext,
  ) {
    this.wanting = stages.filter((s) => s.wantsFile !== undefined);
  }

  /** Whether leave() has anything to do: a file read by a rule is pending or was changed. */
  get pending(): boolean {
    return this.taken.size !== 0;
  }

  /** Whether enter() may act on hard links. */
  get wants(): boolean {
    return this.wanting.length !== 0;
  }

  /** A stage answered `out` for the regular file `e`: remember what it read, for links to it. */
  answered(e: Entry, rel: string, out: unknown): void {
    if (out === e || e.sparse !== undefined || this.taken.has(rel)) return;
    const buf = bodyRead(e);
    if (buf !== undefined) this.taken.set(rel, { buf, entry: e, now: null });
  }

  /** A hard link entering the rules: made a regular file when a rule rewrites its path. */
  enter(e: Entry, rel: string): Entry {
    if (e.linkTarget === undefined || !this.wanting.some((s) => s.wantsFile!(rel))) return e;
    const target = normPath(e.linkTarget);
    const buf = this.taken.get(target)?.buf ?? this.ctx.readWritten?.(target, CAP) ?? null;
    if (buf === null) {
      // convert and inspect write no zone root to read the target back from.
      if (this.ctx.readWritten === undefined) this.ctx.report.add(LINKS, rel, 'left a hard link', `to ${target}: an install makes it a regular file and changes it`);
      return e;
    }
    this.ctx.report.add(LINKS, rel, 'made a regular file', `it was a hard link to ${target}; p2v changes this name only`);
    const c = copyEntry(e);
    c.type = 'file';
    c.linkTarget = undefined;
    c.size = buf.length;
    c.body = bufferBody(buf);
    return c;
  }

  /** An entry leaving the rules: a file passed on under its name, or a link to a file that was not (or was changed). */
  leave(e: Entry, rel: string): Entry {
    if (e.type === 'file') {
      // Passed on as it was read: links to it may stay links.
      const t = this.taken.get(rel);
      if (t !== undefined && t.now === null && bodyBuffer(e)?.equals(t.buf) !== false) this.taken.delete(rel);
      return e;
    }
    if (e.type !== 'hardlink' || e.linkTarget === undefined) return e;
    const target = normPath(e.linkTarget);
    const t = this.taken.get(target);
    if (t === undefined) return e;
    if (t.now !== null) {
      const c = copyEntry(e);
      c.linkTarget = t.now;
      return c;
    }
    t.now = e.path;
    this.ctx.report.add(LINKS, rel, 'kept as a regular file', `it was a hard link to ${target}, which p2v changed, deleted, renamed or held back`);
    const c = copyEntry(t.entry);
    c.path = e.path;
    c.offset = e.offset; // messages name the link's own place in the archive
    c.index = e.index;
    c.size = t.buf.length;
    c.body = bufferBody(t.buf);
    return c;
  }
}
