// The directory table of a dump (reference/formats.md 1.11): every
// (parent inode, child inode, name) triple read from directory data, plus
// the metadata of each dumped directory, kept in growing typed arrays and
// one name heap, so memory follows the number of directory entries (about
// 14 bytes of integers per entry plus the name bytes, 40 bytes per
// directory) and not the number of files or their data.

const ROOT_INO = 2;

function grow<T extends Uint32Array | Uint16Array | Uint8Array | Int32Array | Float64Array>(a: T, need: number): T {
  if (need <= a.length) return a;
  let n = Math.max(16, a.length * 2);
  while (n < need) n *= 2;
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  return b;
}

export interface DirInfo {
  ino: number;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  mtimeNsec: number;
  nlink: number;
  offset: number;
  attr: boolean;
}

/** Why the tree is unusable; the parser turns these into errors or warnings. */
export interface TreeProblem {
  kind: 'multiple-names' | 'root-named' | 'unreachable' | 'attrdir-named' | 'dotdot' | 'path-too-long';
  ino: number;
  message: string;
}

export class DirTable {
  // ---- entries
  n = 0;
  private parent = new Uint32Array(1024);
  private child = new Uint32Array(1024);
  private nameOff = new Uint32Array(1024);
  private nameLen = new Uint8Array(1024);
  private names = Buffer.alloc(16384);
  private namesUsed = 0;
  // ---- directories
  nd = 0;
  private dIno = new Uint32Array(256);
  private dMode = new Uint16Array(256);
  private dUid = new Uint32Array(256);
  private dGid = new Uint32Array(256);
  private dMtime = new Float64Array(256);
  private dNsec = new Uint32Array(256);
  private dNlink = new Uint32Array(256);
  private dOffset = new Float64Array(256);
  private dDotDot = new Uint32Array(256);
  private dAttr = new Uint8Array(256);
  // ---- built by finish()
  private byChild = new Uint32Array(0);
  private byParent = new Uint32Array(0);
  private dirsByIno = new Uint32Array(0);
  /** Per directory: the entry naming it (-1: root or none). */
  private dNameEntry = new Int32Array(0);
  /** Per directory: 1 when reachable from the root. */
  private dReach = new Uint8Array(0);
  private dPathLen = new Uint32Array(0);
  private pathCache = new Map<number, string>();

  /** Approximate bytes held, for tests and the bench. */
  get bytes(): number {
    return this.parent.byteLength * 3 + this.nameLen.byteLength + this.names.length + this.dIno.byteLength * 10;
  }

  addDir(d: DirInfo): number {
    const i = this.nd++;
    if (i >= this.dIno.length) {
      const n = i + 1;
      this.dIno = grow(this.dIno, n);
      this.dMode = grow(this.dMode, n);
      this.dUid = grow(this.dUid, n);
      this.dGid = grow(this.dGid, n);
      this.dMtime = grow(this.dMtime, n);
      this.dNsec = grow(this.dNsec, n);
      this.dNlink = grow(this.dNlink, n);
      this.dOffset = grow(this.dOffset, n);
      this.dDotDot = grow(this.dDotDot, n);
      this.dAttr = grow(this.dAttr, n);
    }
    this.dIno[i] = d.ino;
    this.dMode[i] = d.mode;
    this.dUid[i] = d.uid;
    this.dGid[i] = d.gid;
    this.dMtime[i] = d.mtime;
    this.dNsec[i] = d.mtimeNsec;
    this.dNlink[i] = Math.max(0, d.nlink);
    this.dOffset[i] = d.offset;
    this.dDotDot[i] = 0;
    this.dAttr[i] = d.attr ? 1 : 0;
    return i;
  }

  setDotDot(dir: number, ino: number): void {
    this.dDotDot[dir] = ino;
  }

  add(parentIno: number, childIno: number, name: Buffer): void {
    const i = this.n++;
    if (i >= this.parent.length) {
      this.parent = grow(this.parent, i + 1);
      this.child = grow(this.child, i + 1);
      this.nameOff = grow(this.nameOff, i + 1);
      this.nameLen = grow(this.nameLen, i + 1);
    }
    if (this.namesUsed + name.length > this.names.length) {
      let n = this.names.length * 2;
      while (n < this.namesUsed + name.length) n *= 2;
      const b = Buffer.alloc(n);
      this.names.copy(b, 0, 0, this.namesUsed);
      this.names = b;
    }
    name.copy(this.names, this.namesUsed);
    this.parent[i] = parentIno;
    this.child[i] = childIno;
    this.nameOff[i] = this.namesUsed;
    this.nameLen[i] = name.length;
    this.namesUsed += name.length;
  }

  name(e: number): string {
    const off = this.nameOff[e]!;
    return this.names.toString('latin1', off, off + this.nameLen[e]!);
  }

  dirInfo(d: number): DirInfo {
    return {
      ino: this.dIno[d]!,
      mode: this.dMode[d]!,
      uid: this.dUid[d]!,
      gid: this.dGid[d]!,
      mtime: this.dMtime[d]!,
      mtimeNsec: this.dNsec[d]!,
      nlink: this.dNlink[d]!,
      offset: this.dOffset[d]!,
      attr: this.dAttr[d] === 1,
    };
  }

  /** Directory index of inode `ino`, or -1. */
  dirIndex(ino: number): number {
    const a = this.dirsByIno;
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.dIno[a[mid]!]! < ino) lo = mid + 1;
      else hi = mid;
    }
    return lo < a.length && this.dIno[a[lo]!] === ino ? a[lo]! : -1;
  }

  /** [first, end) positions in byChild of the entries naming `ino`. */
  private childRange(ino: number): [number, number] {
    const a = this.byChild;
    const c = this.child;
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (c[a[mid]!]! < ino) lo = mid + 1;
      else hi = mid;
    }
    let end = lo;
    while (end < a.length && c[a[end]!] === ino) end++;
    return [lo, end];
  }

  /**
   * Sort the indexes, check the tree (each directory named once, root named
   * never, every directory reachable from the root, '..' consistent, paths
   * within `maxPathBytes`) and compute reachability. Problems are returned;
   * directories involved are left unreachable.
   */
  finish(maxPathBytes: number): TreeProblem[] {
    const problems: TreeProblem[] = [];
    // entries sorted by (child, index) and by (parent, index)
    const byChild = new Uint32Array(this.n);
    const byParent = new Uint32Array(this.n);
    for (let i = 0; i < this.n; i++) byChild[i] = byParent[i] = i;
    const child = this.child;
    const parent = this.parent;
    byChild.sort((a, b) => child[a]! - child[b]! || a - b);
    byParent.sort((a, b) => parent[a]! - parent[b]! || a - b);
    this.byChild = byChild;
    this.byParent = byParent;
    const dirs = new Uint32Array(this.nd);
    for (let i = 0; i < this.nd; i++) dirs[i] = i;
    const dIno = this.dIno;
    dirs.sort((a, b) => dIno[a]! - dIno[b]! || a - b);
    this.dirsByIno = dirs;
    this.dNameEntry = new Int32Array(this.nd).fill(-1);
    this.dReach = new Uint8Array(this.nd);
    this.dPathLen = new Uint32Array(this.nd);
    // one name per directory (entries inside attribute directories do not count)
    const nameOf = new Int32Array(this.nd).fill(-1);
    for (let k = 0; k < this.nd; k++) {
      const d = dirs[k]!;
      const ino = dIno[d]!;
      if (k > 0 && dIno[dirs[k - 1]!] === ino) {
        problems.push({ kind: 'multiple-names', ino, message: `directory inode ${ino} is dumped twice` });
        continue;
      }
      const [lo, end] = this.childRange(ino);
      for (let p = lo; p < end; p++) {
        const e = byChild[p]!;
        const pd = this.dirIndex(parent[e]!);
        if (pd >= 0 && this.dAttr[pd]) continue;
        if (ino === ROOT_INO) {
          problems.push({ kind: 'root-named', ino, message: `the root directory is named ${JSON.stringify(this.name(e))} inside directory inode ${parent[e]}` });
          continue;
        }
        if (this.dAttr[d]) {
          problems.push({ kind: 'attrdir-named', ino, message: `extended-attribute directory inode ${ino} is named ${JSON.stringify(this.name(e))} in the tree` });
          continue;
        }
        if (nameOf[d] >= 0) {
          problems.push({ kind: 'multiple-names', ino, message: `directory inode ${ino} has several names (${JSON.stringify(this.name(nameOf[d]!))} and ${JSON.stringify(this.name(e))}): hard-linked directory or loop` });
          continue;
        }
        nameOf[d] = e;
      }
    }
    // walk from the root
    const root = this.dirIndex(ROOT_INO);
    if (root < 0) return problems;
    this.dReach[root] = 1;
    const stack: number[] = [root];
    while (stack.length) {
      const d = stack.pop()!;
      const ino = dIno[d]!;
      for (let lo = this.parentStart(ino); lo < this.n && parent[byParent[lo]!] === ino; lo++) {
        const e = byParent[lo]!;
        const c = this.dirIndex(child[e]!);
        if (c < 0 || this.dAttr[c] || nameOf[c] !== e || this.dReach[c]) continue;
        const len = (d === root ? 0 : this.dPathLen[d]! + 1) + this.nameLen[e]!;
        if (len > maxPathBytes) {
          problems.push({ kind: 'path-too-long', ino: child[e]!, message: `directory path of inode ${child[e]} is over ${maxPathBytes} bytes` });
          continue;
        }
        const dd = this.dDotDot[c]!;
        if (dd !== 0 && dd !== ino) {
          problems.push({ kind: 'dotdot', ino: child[e]!, message: `directory ${JSON.stringify(this.name(e))} (inode ${child[e]}) is in directory inode ${ino} but its '..' is inode ${dd}` });
          continue;
        }
        this.dReach[c] = 1;
        this.dNameEntry[c] = e;
        this.dPathLen[c] = len;
        stack.push(c);
      }
    }
    const flagged = new Set(problems.map((p) => p.ino));
    for (let d = 0; d < this.nd; d++) {
      if (!this.dReach[d] && !this.dAttr[d] && !flagged.has(dIno[d]!)) {
        problems.push({ kind: 'unreachable', ino: dIno[d]!, message: `directory inode ${dIno[d]} is not reachable from the root` });
      }
    }
    return problems;
  }

  private parentStart(ino: number): number {
    const a = this.byParent;
    const p = this.parent;
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (p[a[mid]!]! < ino) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Path of a reachable directory ('' for the root). */
  dirPath(d: number): string {
    const cached = this.pathCache.get(d);
    if (cached !== undefined) return cached;
    const parts: string[] = [];
    let cur = d;
    for (;;) {
      const e = this.dNameEntry[cur]!;
      if (e < 0) break;
      parts.push(this.name(e));
      cur = this.dirIndex(this.parent[e]!);
      const hit = this.pathCache.get(cur);
      if (hit !== undefined) {
        if (hit !== '') parts.push(hit);
        break;
      }
    }
    const p = parts.reverse().join('/');
    if (this.pathCache.size >= 4096) this.pathCache.clear();
    this.pathCache.set(d, p);
    return p;
  }

  /**
   * Directories reachable from the root, parents before children (depth
   * first), each with its path. The root comes first with path ''.
   */
  *dirsInOrder(): Generator<{ d: number; path: string }> {
    const root = this.dirIndex(ROOT_INO);
    if (root < 0 || !this.dReach[root]) return;
    const stack: { d: number; path: string }[] = [{ d: root, path: '' }];
    while (stack.length) {
      const top = stack.pop()!;
      yield top;
      const ino = this.dIno[top.d]!;
      const kids: { d: number; path: string }[] = [];
      for (let lo = this.parentStart(ino); lo < this.n && this.parent[this.byParent[lo]!] === ino; lo++) {
        const e = this.byParent[lo]!;
        const c = this.dirIndex(this.child[e]!);
        if (c < 0 || !this.dReach[c] || this.dNameEntry[c] !== e) continue;
        kids.push({ d: c, path: top.path === '' ? this.name(e) : `${top.path}/${this.name(e)}` });
      }
      for (let k = kids.length - 1; k >= 0; k--) stack.push(kids[k]!);
    }
  }

  /** Stream offset of the header of directory inode `ino` (undefined if not dumped). */
  offsetOf(ino: number): number | undefined {
    const d = this.dirIndex(ino);
    return d < 0 ? undefined : this.dOffset[d];
  }

  isReachable(d: number): boolean {
    return this.dReach[d] === 1;
  }

  isAttrDir(d: number): boolean {
    return this.dAttr[d] === 1;
  }

  dotDot(d: number): number {
    return this.dDotDot[d]!;
  }

  /**
   * Names of inode `ino`: paths under reachable directories, and names
   * inside extended-attribute directories (with the attribute directory's
   * index) for Solaris attribute files.
   */
  namesOf(ino: number): { paths: string[]; attrs: { dir: number; name: string }[] } {
    const paths: string[] = [];
    const attrs: { dir: number; name: string }[] = [];
    const [lo, end] = this.childRange(ino);
    for (let p = lo; p < end; p++) {
      const e = this.byChild[p]!;
      const d = this.dirIndex(this.parent[e]!);
      if (d < 0) continue;
      if (this.dAttr[d]) {
        attrs.push({ dir: d, name: this.name(e) });
        continue;
      }
      if (!this.dReach[d]) continue;
      const dp = this.dirPath(d);
      paths.push(dp === '' ? this.name(e) : `${dp}/${this.name(e)}`);
    }
    return { paths, attrs };
  }
}
