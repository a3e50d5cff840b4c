// Byte-level tar writers for the hostile corpus (security.md 1.0, `hdr`,
// `octal`, `b256`, `pad`, `pax_rec`, `EOA`): every field can be given raw, so
// malformed headers are as easy to make as good ones. Nothing is committed:
// the corpus is built from these at test time.

export const BLOCK = 512;
export const EOA = Buffer.alloc(1024);

export const B = (s: string): Buffer => Buffer.from(s, 'latin1');

/** NUL-padded to a multiple of 512 bytes. */
export function pad(d: Buffer): Buffer {
  const r = d.length % BLOCK;
  return r === 0 ? d : Buffer.concat([d, Buffer.alloc(BLOCK - r)]);
}

/** An octal field of `len` bytes: digits, then NUL. */
export function octal(n: number, len = 12): Buffer {
  const s = n.toString(8).padStart(len - 1, '0');
  if (s.length > len - 1) throw new Error(`${n} does not fit an octal field of ${len}`);
  return B(`${s}\0`);
}

/** GNU base-256 (two's complement, high bit set) over `len` bytes. */
export function b256(n: bigint, len = 12): Buffer {
  const b = Buffer.alloc(len);
  let v = BigInt.asUintN(len * 8, n);
  for (let i = len - 1; i >= 0; i--) {
    b[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  b[0] = b[0]! | 0x80;
  return b;
}

export type Magic = 'ustar' | 'gnu' | 'v7';

export interface HdrOpts {
  /** Typeflag character (default '0'). */
  type?: string;
  size?: number;
  /** Raw 12-byte size field (overrides size). */
  sizeField?: Buffer;
  linkname?: string | Buffer;
  mode?: number;
  uid?: number;
  gid?: number;
  uidField?: Buffer;
  gidField?: Buffer;
  mtime?: number;
  mtimeField?: Buffer;
  uname?: string;
  gname?: string;
  devmajor?: number;
  devminor?: number;
  magic?: Magic;
  /** ustar prefix field (155 bytes). */
  prefix?: string | Buffer;
  /** Write this checksum instead of the right one. */
  badChecksum?: boolean;
}

function put(h: Buffer, off: number, len: number, v: string | Buffer): void {
  const b = typeof v === 'string' ? B(v) : v;
  if (b.length > len) throw new Error(`field at ${off} is ${len} bytes, value is ${b.length}`);
  b.copy(h, off);
}

/** Recompute the checksum of a 512-byte header in place. */
export function fixSum(h: Buffer): Buffer {
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += h[i]!;
  B(`${sum.toString(8).padStart(6, '0')}\0 `).copy(h, 148);
  return h;
}

/** One raw header block; `name` is the 100-byte name field (latin1 or bytes). */
export function hdr(name: string | Buffer, o: HdrOpts = {}): Buffer {
  const h = Buffer.alloc(BLOCK);
  put(h, 0, 100, name);
  put(h, 100, 8, octal(o.mode ?? 0o644, 8));
  put(h, 108, 8, o.uidField ?? octal(o.uid ?? 0, 8));
  put(h, 116, 8, o.gidField ?? octal(o.gid ?? 0, 8));
  put(h, 124, 12, o.sizeField ?? octal(o.size ?? 0, 12));
  put(h, 136, 12, o.mtimeField ?? octal(o.mtime ?? 1_600_000_000, 12));
  put(h, 156, 1, o.type ?? '0');
  if (o.linkname !== undefined) put(h, 157, 100, o.linkname);
  const magic = o.magic ?? 'ustar';
  if (magic === 'ustar') put(h, 257, 8, B('ustar\x0000'));
  else if (magic === 'gnu') put(h, 257, 8, B('ustar  \0'));
  if (magic !== 'v7') {
    put(h, 265, 32, o.uname ?? 'root');
    put(h, 297, 32, o.gname ?? 'root');
    put(h, 329, 8, octal(o.devmajor ?? 0, 8));
    put(h, 337, 8, octal(o.devminor ?? 0, 8));
    if (o.prefix !== undefined) put(h, 345, 155, o.prefix);
  }
  fixSum(h);
  if (o.badChecksum) h[148] = h[148] === 0x30 ? 0x31 : 0x30;
  return h;
}

/** "LEN key=value\n", LEN counting itself. */
export function paxRec(k: string, v: string | Buffer | number): Buffer {
  const body = Buffer.concat([B(` ${k}=`), typeof v === 'number' ? B(String(v)) : typeof v === 'string' ? B(v) : v, B('\n')]);
  let n = body.length;
  while (String(n).length + body.length !== n) n = String(n).length + body.length;
  return Buffer.concat([B(String(n)), body]);
}

/** A pax extended header ('x', 'g' or Solaris 'X') with its body, padded. */
export function paxHdr(records: Buffer[] | Buffer, type = 'x', name = 'PaxHeaders/x'): Buffer {
  const body = Buffer.isBuffer(records) ? records : Buffer.concat(records);
  return Buffer.concat([hdr(name, { type, size: body.length }), pad(body)]);
}

/** A GNU long name ('L') or long link ('K') header with its body. */
export function gnuLong(type: 'L' | 'K', value: string | Buffer, sizeOverride?: number): Buffer {
  const body = Buffer.concat([typeof value === 'string' ? B(value) : value, Buffer.from([0])]);
  return Buffer.concat([hdr('././@LongLink', { type, size: sizeOverride ?? body.length, magic: 'gnu' }), pad(body)]);
}

/** A regular file member: header plus padded data. */
export function tarFile(name: string | Buffer, data: string | Buffer, o: HdrOpts = {}): Buffer {
  const d = typeof data === 'string' ? B(data) : data;
  return Buffer.concat([hdr(name, { size: d.length, ...o }), pad(d)]);
}
