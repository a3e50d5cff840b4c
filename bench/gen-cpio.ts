// Write a deterministic odc cpio stream of about BYTES bytes to stdout, for
// the constant-memory check: no file on disk, the archive only exists in
// the pipe.
//
//   node dist/bench/gen-cpio.js BYTES [SEED]
//
// Content: directories of 200 entries; regular files of mixed sizes (60 %
// up to 4 KiB, 25 % 4-64 KiB, 13 % 64-512 KiB, 2 % 1-16 MiB: about 200 KB
// on average), 1 % symlinks; bodies are slices of an 8 MiB random pool, so
// generating costs almost nothing next to extracting. At the end a JSON
// summary goes to stderr.

import crypto from 'node:crypto';
import { once } from 'node:events';
import { Rng } from '../samples/image.js';

const total = Number(process.argv[2]);
const seed = Number(process.argv[3] ?? 1);
if (!Number.isFinite(total) || total <= 0) {
  process.stderr.write('usage: gen-cpio.js BYTES [SEED]\n');
  process.exit(2);
}

const POOL = 8 << 20;
const key = crypto.createHash('sha256').update(`gen-cpio:${seed}`).digest();
const pool = crypto.createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32)).update(Buffer.alloc(POOL));
const rng = new Rng(`gen-cpio:${seed}`);
const out = process.stdout;
const CHUNK = 1 << 20;
let buf = Buffer.allocUnsafe(CHUNK);
let used = 0;
let written = 0;
let entries = 0;
const MTIME = 1371000000;

async function flush(): Promise<void> {
  if (used === 0) return;
  const b = buf.subarray(0, used);
  buf = Buffer.allocUnsafe(CHUNK);
  used = 0;
  if (!out.write(b)) await once(out, 'drain');
}

async function put(b: Buffer): Promise<void> {
  written += b.length;
  if (b.length >= CHUNK / 2) {
    await flush();
    if (!out.write(b)) await once(out, 'drain');
    return;
  }
  if (used + b.length > CHUNK) await flush();
  b.copy(buf, used);
  used += b.length;
}

const oct = (n: number, w: number) => {
  const s = n.toString(8);
  if (s.length > w) throw new Error(`gen-cpio: ${n} does not fit ${w} octal digits`);
  return s.padStart(w, '0');
};

async function entry(name: string, mode: number, size: number, nlink: number): Promise<void> {
  const i = entries++;
  const nameBuf = Buffer.from(`${name}\0`, 'latin1');
  const h =
    '070707' +
    oct(Math.floor(i / 262143), 6) +
    oct((i % 262143) + 1, 6) +
    oct(mode, 6) +
    oct(0, 6) +
    oct(3, 6) +
    oct(nlink, 6) +
    oct(0, 6) +
    oct(MTIME + (i % 100000), 11) +
    oct(nameBuf.length, 6) +
    oct(size, 11);
  await put(Buffer.concat([Buffer.from(h, 'latin1'), nameBuf]));
}

async function body(size: number): Promise<void> {
  let left = size;
  while (left > 0) {
    const n = Math.min(left, POOL - 4096, 4 << 20);
    const off = rng.int(0, POOL - n);
    await put(pool.subarray(off, off + n));
    left -= n;
  }
}

function fileSize(): number {
  const p = rng.float();
  if (p < 0.6) return rng.int(0, 4096);
  if (p < 0.85) return rng.int(4097, 65536);
  if (p < 0.98) return rng.int(65537, 512 * 1024);
  return rng.int(1 << 20, 16 << 20);
}

let dir = -1;
let inDir = 200;
while (written < total) {
  if (inDir >= 200) {
    dir++;
    inDir = 0;
    await entry(`./d${String(dir).padStart(5, '0')}`, 0o40755, 0, 2);
  }
  const name = `./d${String(dir).padStart(5, '0')}/f${String(inDir).padStart(3, '0')}`;
  inDir++;
  if (rng.chance(0.01)) {
    const target = Buffer.from(`../d${String(rng.int(0, dir)).padStart(5, '0')}/f000`, 'latin1');
    await entry(`${name}.lnk`, 0o120777, target.length, 1);
    await put(target);
    continue;
  }
  const size = Math.min(fileSize(), Math.max(0, total - written));
  await entry(`${name}.dat`, 0o100644, size, 1);
  await body(size);
}
await entry('TRAILER!!!', 0, 0, 1);
const pad = (512 - (written % 512)) % 512;
if (pad) await put(Buffer.alloc(pad));
await flush();
out.end();
process.stderr.write(`${JSON.stringify({ bytes: written, entries: entries - 1, dirs: dir + 1 })}\n`);
