// The regular files inspect's shadow tree knows of, kept as 64-bit hashes of
// their keys (with a 32-bit hash of the parent's key, for removing a
// subtree) in one open-addressing table: 16 to 24 bytes a file, where a Map
// of key strings took about 200 (a 600 000-file image: 195 MiB resident
// against 75). Install asks the disk the same questions (does this file
// exist? is this parent a file?). Two different keys with the same 64-bit
// hash would make one look present: with a million files, about one chance
// in 10^7.

const EMPTY = 0;
const GONE = 1;
/** Slots in a new table (a power of two). */
const FIRST = 1 << 12;

/** Two independent 32-bit FNV-1a style hashes of a latin1 key, and its parent's. */
function hashes(key: string, out: Uint32Array): void {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  let parentA = 0x811c9dc5;
  const slash = key.lastIndexOf('/');
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
    if (i === slash - 1) parentA = a;
  }
  // 0 and 1 in the first word mark empty and deleted slots.
  out[0] = (a >>> 0) < 2 ? (a >>> 0) + 2 : a >>> 0;
  out[1] = b >>> 0;
  out[2] = slash < 0 ? 0 : parentA >>> 0;
}

/** Hash of a directory key as hashes() computes a child's parent hash. */
export function dirHash(key: string): number {
  let a = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) a = Math.imul(a ^ key.charCodeAt(i), 0x01000193);
  return key === '' ? 0 : a >>> 0;
}

export class FileSet {
  private h1 = new Uint32Array(FIRST);
  private h2 = new Uint32Array(FIRST);
  private parent = new Uint32Array(FIRST);
  private used = 0;
  private gone = 0;
  private readonly tmp = new Uint32Array(3);

  get size(): number {
    return this.used;
  }

  has(key: string): boolean {
    hashes(key, this.tmp);
    return this.find(this.tmp[0]!, this.tmp[1]!) >= 0;
  }

  add(key: string): void {
    hashes(key, this.tmp);
    const [a, b, p] = this.tmp as unknown as [number, number, number];
    if (this.find(a, b) >= 0) return;
    if ((this.used + this.gone + 1) * 4 > this.h1.length * 3) this.grow();
    this.insert(a, b, p);
    this.used++;
  }

  delete(key: string): boolean {
    hashes(key, this.tmp);
    const i = this.find(this.tmp[0]!, this.tmp[1]!);
    if (i < 0) return false;
    this.h1[i] = GONE;
    this.used--;
    this.gone++;
    return true;
  }

  /** Delete every file whose parent directory's dirHash() is in `parents`. */
  deleteChildrenOf(parents: ReadonlySet<number>): void {
    const { h1, parent } = this;
    for (let i = 0; i < h1.length; i++) {
      if (h1[i]! > GONE && parents.has(parent[i]!)) {
        h1[i] = GONE;
        this.used--;
        this.gone++;
      }
    }
  }

  private find(a: number, b: number): number {
    const mask = this.h1.length - 1;
    for (let i = (a ^ b) & mask; ; i = (i + 1) & mask) {
      const x = this.h1[i]!;
      if (x === EMPTY) return -1;
      if (x === a && this.h2[i] === b) return i;
    }
  }

  private insert(a: number, b: number, p: number): void {
    const mask = this.h1.length - 1;
    let i = (a ^ b) & mask;
    while (this.h1[i]! > GONE) i = (i + 1) & mask;
    if (this.h1[i] === GONE) this.gone--;
    this.h1[i] = a;
    this.h2[i] = b;
    this.parent[i] = p;
  }

  private grow(): void {
    const { h1, h2, parent } = this;
    // At least twice the live files (deleted slots are dropped): the load
    // is at most a half after, three quarters before the next growth.
    let n = FIRST;
    while (n < (this.used + 1) * 2) n *= 2;
    this.h1 = new Uint32Array(n);
    this.h2 = new Uint32Array(n);
    this.parent = new Uint32Array(n);
    this.gone = 0;
    for (let i = 0; i < h1.length; i++) if (h1[i]! > GONE) this.insert(h1[i]!, h2[i]!, parent[i]!);
  }
}
