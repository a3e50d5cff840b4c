// Compression wrappers for the hostile corpus: gzip (zlib) and .Z (our own
// LZW encoder) in-process, bzip2 and xz with the system tools when installed
// (null otherwise, and the case is skipped with that reason).

import zlib from 'node:zlib';
import { spawnSync } from 'node:child_process';

const found = new Map<string, boolean>();

export function have(tool: string): boolean {
  let v = found.get(tool);
  if (v === undefined) {
    v = spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
    found.set(tool, v);
  }
  return v;
}

export function gzip(b: Buffer, level = 6): Buffer {
  return zlib.gzipSync(b, { level });
}

function tool(cmd: string, args: string[], input: Buffer): Buffer | null {
  if (!have(cmd)) return null;
  const r = spawnSync(cmd, args, { input, maxBuffer: 1 << 30 });
  if (r.error || (r.status !== 0 && r.status !== 2)) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.error ?? r.stderr}`);
  return r.stdout;
}

/** compress(1) .Z, made in-process (lzwCompress below; checked against uncompress(1)). */
export function compressZ(b: Buffer): Buffer {
  return lzwCompress(b);
}

export function bzip2(b: Buffer, level = 9): Buffer | null {
  return tool('bzip2', ['-c', `-${level}`], b);
}

export function xz(b: Buffer): Buffer | null {
  return tool('xz', ['-c', '-0'], b);
}

/**
 * compress(1) .Z in-process (LZW, block mode, up to 16 bits, never CLEAR):
 * codes LSB first; when the code width grows, the current group of codes is
 * padded to a multiple of n_bits bytes counted from where that width began,
 * as ncompress writes and reads it. For tests: no process per archive.
 * `block` false: the original format without block mode, where code 256 is
 * a string (ncompress's `compress -C` output is unreadable by every
 * decoder, its own uncompress included, so tests make it here).
 */
export function lzwCompress(input: Buffer, block = true): Buffer {
  const out: number[] = [0x1f, 0x9d, block ? 0x90 : 0x10];
  let acc = 0;
  let accBits = 0;
  let bits = 0; // bits written after the header
  let segStart = 0;
  let nBits = 9;
  let free = block ? 257 : 256;
  const dict = new Map<number, number>();
  const put = (code: number) => {
    acc |= code << accBits;
    accBits += nBits;
    bits += nBits;
    while (accBits >= 8) {
      out.push(acc & 0xff);
      acc >>>= 8;
      accBits -= 8;
    }
  };
  const widenIfNeeded = () => {
    if (nBits < 16 && free > (1 << nBits)) {
      const group = nBits * 8;
      const used = bits - segStart;
      const target = segStart + Math.ceil(used / group) * group;
      while (bits < target) {
        const n = Math.min(8 - accBits, target - bits);
        accBits += n;
        bits += n;
        if (accBits === 8) {
          out.push(acc & 0xff);
          acc = 0;
          accBits = 0;
        }
      }
      segStart = bits;
      nBits++;
    }
  };
  if (input.length === 0) return Buffer.from(out);
  let ent = input[0]!;
  for (let i = 1; i < input.length; i++) {
    const c = input[i]!;
    const key = ent * 256 + c;
    const hit = dict.get(key);
    if (hit !== undefined) {
      ent = hit;
      continue;
    }
    widenIfNeeded();
    put(ent);
    if (free < 65536) dict.set(key, free++);
    ent = c;
  }
  widenIfNeeded();
  put(ent);
  if (accBits > 0) out.push(acc & 0xff);
  return Buffer.from(out);
}
