// What install's filesystem sink (sink/fs.ts) would find, kept in memory so
// that inspect, which writes nothing, stops where an install would: the same
// name checks (path.ts), owner and size checks, the same rules for what may
// replace what (a non-empty directory is never replaced), for parents (never
// through a symbolic link or a non-directory) and for hard links (only to a
// regular file this run wrote), and the same --limit caps (bytes written,
// symbolic-link target bytes, records held). Errors are FsSink's, word for
// word, so inspect's blocker is the install's error.
//
// The tree modelled is a fresh zone root (install refuses any other). Memory:
// a record per directory, link and FIFO (FsSink holds those too, capped by
// --limit held); regular files only as hashes (file-set.ts), where FsSink
// asks the disk.

import { displayPath, type Entry } from '../entry.js';
import { ArchiveError, type Where } from '../errors.js';
import { LENIENT_KINDS, type SinkCaps } from '../sink/fs.js';
import { capBytes, capHeld, capLinks, checkEntry, checkOwner, checkSparse, fileLength, throughLink } from '../sink/refusals.js';
import { linkTargetMissing, replaceRefused } from '../sink/messages.js';
import { validateLinkTarget, validatePath, type ValidPath } from '../sink/path.js';
import { dirHash, FileSet } from './file-set.js';

const DIR = 1;
const FILE = 2;
/** A symbolic link (FsSink's placeholder until finish()). */
const LINK = 3;
const FIFO = 4;
const KIND_NAME = ['', 'directory', 'regular file', 'symbolic link (not yet created)', 'FIFO'];

export interface ShadowOptions {
  caps?: Pick<SinkCaps, 'maxBytes' | 'maxLinkTargetBytes' | 'maxHeld'>;
  /** --lenient: FsSink's LENIENT_KINDS skip the entry instead of failing. */
  lenient?: boolean;
}

export class ShadowTree {
  /** Directories, links and FIFOs. */
  private readonly nodes = new Map<string, number>();
  private readonly files = new FileSet();
  /** Children per directory key (to refuse replacing a non-empty one). */
  private readonly children = new Map<string, number>();
  /** Records FsSink would hold until finish(): everything but regular files. */
  private held = 0;
  private bytes = 0;
  private linkTargetBytes = 0;
  private readonly maxBytes: number;
  private readonly maxLinkTargetBytes: number;
  private readonly maxHeld: number;
  private readonly lenient: boolean;

  constructor(o: ShadowOptions = {}) {
    this.maxBytes = o.caps?.maxBytes ?? Infinity;
    this.maxLinkTargetBytes = o.caps?.maxLinkTargetBytes ?? 32 * 1024 * 1024;
    this.maxHeld = o.caps?.maxHeld ?? 2 * 1024 * 1024;
    this.lenient = o.lenient ?? false;
  }

  /**
   * Apply one entry as FsSink would. Returns false when FsSink would skip it
   * (a device, a socket, a lenient rejection, a self hard link); throws
   * FsSink's error where an install would fail.
   */
  write(e: Entry): boolean {
    const where: Where = { entry: e.path, offset: e.offset, index: e.index };
    try {
      return this.dispatch(e, where);
    } catch (err) {
      if (this.lenient && err instanceof ArchiveError && LENIENT_KINDS.has(err.kind)) return false;
      throw err;
    }
  }

  /** The nested-zones rule removing what was written at and under `key`. */
  remove(key: string): void {
    const prefix = `${key}/`;
    const dirs = new Set<number>();
    for (const [k, kind] of [...this.nodes]) {
      if (k !== key && !k.startsWith(prefix)) continue;
      if (kind === DIR) dirs.add(dirHash(k));
      this.drop(k);
    }
    if (this.files.has(key)) this.drop(key);
    // The files in those directories (their own counts went with them).
    if (dirs.size) this.files.deleteChildrenOf(dirs);
  }

  private dispatch(e: Entry, where: Where): boolean {
    const v = validatePath(e.path, where);
    checkEntry(e, v.key, v.trailingSlash, where);
    if (v.key === '') return true;
    if (e.type === 'char' || e.type === 'block' || e.type === 'socket') return false;
    checkOwner(e, where);
    switch (e.type) {
      case 'file':
        this.file(e, v, where);
        return true;
      case 'dir':
        this.parentDir(v.parent, where);
        if (this.nodes.get(v.key) !== DIR) this.put(v.key, DIR, where, 'dir');
        return true;
      case 'symlink': {
        const target = validateLinkTarget(e.linkTarget, where);
        this.linkTargetBytes += target.length;
        if (this.linkTargetBytes > this.maxLinkTargetBytes) throw capLinks(this.linkTargetBytes, this.maxLinkTargetBytes, where);
        this.parentDir(v.parent, where);
        this.put(v.key, LINK, where, 'symlink');
        return true;
      }
      case 'hardlink':
        return this.hardlink(e, v, where);
      case 'fifo':
        this.parentDir(v.parent, where);
        this.put(v.key, FIFO, where, 'fifo');
        return true;
      default:
        throw new ArchiveError('bad-type', `unsupported entry type ${JSON.stringify(e.type)}`, where);
    }
  }

  private file(e: Entry, v: ValidPath, where: Where): void {
    const len = fileLength(e, where);
    checkSparse(e, where);
    if (this.bytes + len > this.maxBytes) throw capBytes(len, this.maxBytes, where);
    this.parentDir(v.parent, where);
    this.put(v.key, FILE, where, 'file');
    this.bytes += len;
  }

  private hardlink(e: Entry, v: ValidPath, where: Where): boolean {
    if (e.linkTarget === undefined || e.linkTarget === '') throw new ArchiveError('bad-hardlink', 'the hard link has no target', where);
    const t = validatePath(e.linkTarget, where, undefined, 'hard-link target');
    if (t.key === v.key) return false;
    const shown = displayPath(t.key);
    const kind = t.key === '' ? undefined : this.kindOf(t.key);
    if (kind === undefined) {
      const m = linkTargetMissing(shown);
      throw new ArchiveError('bad-hardlink', m.message, where, m.hint);
    }
    if (kind === DIR || kind === FIFO) throw new ArchiveError('bad-hardlink', `hard-link target ${shown} is a ${KIND_NAME[kind]}`, where, 'hard links may only point at regular files');
    this.parentDir(v.parent, where);
    this.put(v.key, kind, where, 'hardlink');
    return true;
  }

  /** Every component of `pkey` a directory, made when missing (FsSink.parentDir). */
  private parentDir(pkey: string, where: Where): void {
    if (pkey === '' || this.nodes.get(pkey) === DIR) return;
    let at = 0;
    for (;;) {
      const slash = pkey.indexOf('/', at);
      const k = slash === -1 ? pkey : pkey.slice(0, slash);
      const kind = this.kindOf(k);
      if (kind === undefined) this.add(k, DIR, where);
      else if (kind === LINK) throw throughLink(k, where);
      else if (kind !== DIR) throw new ArchiveError('parent-not-dir', `the path goes through ${displayPath(k)}, which is ${kind === FILE ? 'not a directory' : `a ${KIND_NAME[kind]}`}`, where);
      if (slash === -1) return;
      at = slash + 1;
    }
  }

  /** `key` becomes `kind`, replacing what was there (a directory only when empty). */
  private put(key: string, kind: number, where: Where, newType: string): void {
    const old = this.kindOf(key);
    if (old === DIR && (this.children.get(key) ?? 0) > 0) {
      const r = replaceRefused(newType, undefined);
      throw new ArchiveError('not-empty', r.message, where, r.hint);
    }
    if (old !== undefined) this.drop(key);
    this.add(key, kind, where);
  }

  private kindOf(key: string): number | undefined {
    return this.nodes.get(key) ?? (this.files.has(key) ? FILE : undefined);
  }

  private add(key: string, kind: number, where: Where): void {
    if (kind === FILE) this.files.add(key);
    else this.nodes.set(key, kind);
    const slash = key.lastIndexOf('/');
    if (slash !== -1) {
      const p = key.slice(0, slash);
      this.children.set(p, (this.children.get(p) ?? 0) + 1);
    }
    if (kind !== FILE && ++this.held > this.maxHeld) throw capHeld(this.maxHeld, where);
  }

  private drop(key: string): void {
    const kind = this.kindOf(key);
    if (kind === undefined) return;
    if (kind === FILE) this.files.delete(key);
    else this.nodes.delete(key);
    this.children.delete(key);
    if (kind !== FILE) this.held--;
    const slash = key.lastIndexOf('/');
    if (slash !== -1) {
      const p = key.slice(0, slash);
      const n = (this.children.get(p) ?? 0) - 1;
      if (n > 0) this.children.set(p, n);
      else this.children.delete(p);
    }
  }
}
