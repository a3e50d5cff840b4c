// Where the .Z decoder keeps its tables and window: in a WebAssembly memory
// shared with its inner loop (lzw.wat), or in plain typed arrays for the
// JavaScript-only loop (tests compare the two). Same layout either way, so
// LzwDecoder's own code does not care which.

import { endianness } from 'node:os';
import { LZW_WASM_BASE64 } from './lzw-wasm.js';

/** Entries of the code table. */
export const CODES = 65536;

/** State slot indices of the inner loop (lzw.wat lists what each holds). */
export const S = {
  bp: 0,
  fast: 1,
  op: 2,
  fastEnd: 3,
  limit: 4,
  nbits: 5,
  maxcode: 6,
  freeEnt: 7,
  oldcode: 8,
  prevStart: 9,
  prevLen: 10,
  gStart: 11,
  skip: 12,
  rel: 13,
  maxbits: 14,
  maxmaxcode: 15,
  clear: 16,
  rec: 17,
  suffix: 18,
  in: 19,
  out: 20,
} as const;

/**
 * Input bytes the inner loop sees per call: a 256 KiB read fits whole;
 * longer chunks are fed in pieces.
 */
export const IN_MAX = 256 * 1024;

// Byte offsets in the memory: state, code records (8 bytes each), suffixes,
// input, then the window.
const REC_AT = 1024;
const SUFFIX_AT = REC_AT + CODES * 8;
const IN_AT = SUFFIX_AT + CODES;
const OUT_AT = IN_AT + IN_MAX + 64;
const PAGE = 65536;

/** The inner loop: call run() after filling the state slots and the input area; it writes the slots back. */
export interface InnerLoop {
  run(): void;
  /** The state slots (see S). */
  st: Int32Array;
  /** The input area, IN_MAX bytes. */
  input: Uint8Array;
}

export interface LzwMemory {
  /**
   * Per code, 8 bytes: as int32 pairs, [2 * code] is where a copy of its
   * string was written; as uint16, [4 * code + 2] is its length and
   * [4 * code + 3] its prefix code. One cache line per lookup.
   */
  rec: Int32Array;
  r16: Uint16Array;
  suffix: Uint8Array;
  /** The window and what follows it: `outBytes` bytes. */
  out: Buffer;
  /** Absent for the JavaScript-only loop. */
  inner?: InnerLoop;
}

let compiled: WebAssembly.Module | undefined;

/**
 * The module on a memory of `bytes`, or undefined where it cannot run: the
 * memory refused (it reserves gigabytes of address space: a `ulimit -v` can
 * refuse it), no WebAssembly or no SIMD, or a big-endian host (WebAssembly
 * memory is little-endian, the typed arrays that share it here are not).
 */
function instantiate(bytes: number): { memory: WebAssembly.Memory; run: () => void } | undefined {
  if (endianness() !== 'LE') return undefined;
  try {
    compiled ??= new WebAssembly.Module(Buffer.from(LZW_WASM_BASE64, 'base64'));
    const pages = Math.ceil(bytes / PAGE);
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    const instance = new WebAssembly.Instance(compiled, { env: { memory } });
    return { memory, run: instance.exports.run as () => void };
  } catch {
    return undefined;
  }
}

/** Tables and a window of `outBytes` bytes, with the inner loop unless `js` or it cannot run here. */
export function lzwMemory(outBytes: number, loop: 'wasm' | 'js'): LzwMemory {
  const wasm = loop === 'wasm' ? instantiate(OUT_AT + outBytes) : undefined;
  if (wasm === undefined) {
    const rec = new Int32Array(CODES * 2);
    return { rec, r16: new Uint16Array(rec.buffer), suffix: new Uint8Array(CODES), out: Buffer.alloc(outBytes) };
  }
  const buf = wasm.memory.buffer;
  const st = new Int32Array(buf, 0, 32);
  st[S.rec] = REC_AT;
  st[S.suffix] = SUFFIX_AT;
  st[S.in] = IN_AT;
  st[S.out] = OUT_AT;
  return {
    rec: new Int32Array(buf, REC_AT, CODES * 2),
    r16: new Uint16Array(buf, REC_AT, CODES * 4),
    suffix: new Uint8Array(buf, SUFFIX_AT, CODES),
    out: Buffer.from(buf, OUT_AT, outBytes),
    inner: { run: wasm.run, st, input: new Uint8Array(buf, IN_AT, IN_MAX) },
  };
}
