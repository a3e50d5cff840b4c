// compress(1) .Z decoder (reference/formats.md section 5): LSB-first LZW
// codes of 9..maxbits bits, CLEAR = 256 in block mode, and the "bit group"
// quirk: on a width change or a CLEAR the encoder flushes its whole buffer of
// 8 codes, so the decoder skips to the end of the current group.
//
// Speed: every dictionary string already sits, contiguous, in the output (it
// is the previous code's string plus one byte), so a code is a copy from
// earlier output. Output goes into one window (`area` bytes) that keeps the
// last `keep` bytes when it slides, and the 256 byte values sit past its end
// (`head`), so literals are copies too. Most strings are short: the hot path
// copies a fixed 8 bytes, with no branch on the length (bytes past the
// string are overwritten by the next one). A string that slid out of the
// window is rebuilt from the prefix chain and re-homed to the window; each
// rebuild chases the chain through memory, a cache miss a byte, so the
// window is sized by them: on the bench's .Z (mostly incompressible data, a
// table full for megabytes between CLEARs) a 4 MiB window keeping 1 MiB
// rebuilt 3.0 million strings, 6 MiB keeping 2 MiB 1.5 million, 8 MiB
// keeping 2 MiB 1.0 million for no further gain and 3-5 MiB more peak RSS.
//
// The codes between the rare cases are decoded by an inner loop in
// WebAssembly (lzw.wat), on the same tables and window: in JavaScript each
// of a code's dozen table and window accesses pays a bounds check, and the
// per-code cost (~13 ns) was the main thread's largest item on .Z input.
// The table is one 8-byte record per code (position, length, prefix), so a
// lookup touches one cache line instead of three arrays; strings of up to
// 32 bytes are copied as two 16-byte SIMD words (7 % on the bench's .Z
// against memory.copy). Decoding alone, medians of 5-6 alternated runs:
// the bench's .Z in 1.03 s against 1.62 s for the JavaScript loop
// (uncompress -c: 1.56 s), 150 MB of source text in 0.31 against 0.61 s
// (uncompress: 0.66 s); the bench's .Z extraction took 0.70-0.78 of the
// time with the first version of the loop. This file keeps the whole decoder in
// JavaScript too: the first code, CLEAR, bad codes, a full output buffer
// and codes at the end of an input chunk go through it, and with `loop:
// 'js'` everything does (the tests compare the two).
//
// Decoded bytes are copied out of the window by take(). There is no
// per-code allocation. Memory: ~1 MiB of tables and input area plus the
// 6 MiB window, whatever the input. A run stops after OUT_SIZE bytes, so a
// bomb cannot make one input chunk expand without bound.

import { ArchiveError, TruncatedError } from '../errors.js';
import { CODES, IN_MAX, lzwMemory, S, type InnerLoop } from './lzw-inner.js';

const MAGIC0 = 0x1f;
const MAGIC1 = 0x9d;
const BLOCK_MODE = 0x80;
const RESERVED = 0x60;
const CLEAR = 256;
/** Longest possible string: 65536 - 257 table entries plus one. */
const MAX_STRING = 65281;
/** Most decoded bytes per take(); more than MAX_STRING, so any code fits after a take(). */
const OUT_SIZE = 1024 * 1024;
/** Room for the hot path's 8-byte copy past the window and past the last literal. */
const SLACK = 8;

/** The output window: decoded bytes are written in [0, area); `keep` bytes of history stay when it slides. */
export interface LzwWindow {
  area: number;
  keep: number;
}

/** 6 MiB keeping 2 MiB: see the top of this file. Tests slide smaller ones. */
export const DEFAULT_WINDOW: LzwWindow = { area: 6 * 1024 * 1024, keep: 2 * 1024 * 1024 };

const HINT = 'the .Z data is corrupt or truncated: check the transfer, or compare with `uncompress -c`';

/** True when `head` starts like a compress stream with sane flags. */
export function isCompressHeader(head: Uint8Array): boolean {
  if (head.length < 3 || head[0] !== MAGIC0 || head[1] !== MAGIC1) return false;
  const f = head[2]!;
  const bits = f & 0x1f;
  return bits >= 9 && bits <= 16 && (f & RESERVED) === 0;
}

/** Write `code`'s string so that it ends just before out[end], from the prefix chain. */
function walk(out: Uint8Array, end: number, code: number, r16: Uint16Array, suffix: Uint8Array): void {
  let c = code;
  while (c >= 256) {
    out[--end] = suffix[c]!;
    c = r16[(c << 2) + 3]!;
  }
  out[end - 1] = c;
}

/**
 * Incremental decoder: feed chunks to run(), collect output with take().
 * Error offsets: `offset` is the decoded byte count, the message names the
 * compressed byte.
 */
export class LzwDecoder {
  /** `rel` value that triggers rebase(); lowered by tests to exercise it. */
  static rebaseAt = 1 << 30;

  /**
   * The code table, a record of 8 bytes per entry (lzw-inner.ts). `rec[2c]`:
   * where a copy of the entry's string was written, as an offset from `rel`
   * (int32 arithmetic; see rebase()), below `rel` once it has slid out of
   * the window; literals point past the window (`head`). `r16[4c + 2]`: its
   * length; `r16[4c + 3]`: its prefix code.
   */
  private readonly rec: Int32Array;
  private readonly r16: Uint16Array;
  private readonly suffix: Uint8Array;
  /** The WebAssembly inner loop, sharing the tables and window; absent for the JavaScript-only loop. */
  private readonly inner: InnerLoop | undefined;

  private readonly header = Buffer.alloc(3);
  private hlen = 0;
  private maxbits = 16;
  private maxmaxcode = 1 << 16;
  private block = true;

  /**
   * Where the next code starts, in bits from the byte run() is next given:
   * negative when it began in the previous input (those bits are in
   * `carry`, the first one lowest), positive when a group skip ran past it.
   */
  private bitOff = 0;
  private carry = 0;
  private nbits = 9;
  /**
   * Largest code at the current width. Starts at 511 even for maxbits 9 and
   * grows to 10 bits once the table is full, as Solaris, compress 4.0, gzip
   * and ncompress's uncompress read it.
   */
  private maxcode = 511;
  private freeEnt = 257;
  private oldcode = -1;
  /** The previous code's string: where (an offset from `rel`) and how long. */
  private prevStart = 0;
  private prevLen = 0;
  /** Bits read since the current group sequence (this width) started, modulo one group. */
  private groupBits = 0;
  /** Bits the last group skip (width change or CLEAR) jumped over. */
  private lastSkip = 0;
  /** Zero bits (in stream order) at the end of the input so far: see finish(). */
  private zeroTail = 0;

  /** The window's size and the history kept when it slides. */
  private readonly area: number;
  private readonly keep: number;
  /** Where the 256 byte values sit: after the window, so literals are copies too. */
  private readonly head: number;
  private readonly out: Buffer;
  private readonly outView: DataView;
  /** Decoded bytes before out[0] (slid out of the window). */
  private outBase = 0;
  /** Offset of out[0] in the `pos` coordinates; kept under 2^30 by rebase(). */
  private rel = 0;
  private op = 0;
  private start = 0;
  /** CLEAR codes seen (for tests and diagnostics). */
  clears = 0;
  /** Set when the next string would pass OUT_SIZE bytes since the last take(): take() then run() again. */
  full = false;

  /** Compressed bytes consumed. */
  private inPos = 0;

  /** `loop`: 'js' decodes without the WebAssembly inner loop (tests compare the two). */
  constructor(window: LzwWindow = DEFAULT_WINDOW, loop: 'wasm' | 'js' = 'wasm') {
    // A slide must leave room for a whole take's worth of output.
    if (window.area - window.keep < OUT_SIZE + SLACK || window.keep < 0) throw new Error('LzwDecoder: window too small for its history');
    this.area = window.area;
    this.keep = window.keep;
    this.head = window.area + SLACK;
    // The window, then SLACK, then the byte values 0..255 (at `head`), then SLACK.
    const mem = lzwMemory(this.head + 256 + SLACK, loop);
    this.rec = mem.rec;
    this.r16 = mem.r16;
    this.suffix = mem.suffix;
    this.out = mem.out;
    this.inner = mem.inner;
    this.outView = new DataView(this.out.buffer, this.out.byteOffset, this.out.length);
    for (let c = 0; c < 256; c++) {
      this.out[this.head + c] = c;
      this.suffix[c] = c;
      this.r16[(c << 2) + 2] = 1;
      this.rec[c << 1] = this.head + c;
    }
  }

  /** Decoded bytes produced so far. */
  get produced(): number {
    return this.outBase + this.op;
  }

  /** Decoded bytes not yet handed out. */
  get pending(): number {
    return this.op - this.start;
  }

  /** Hand out (a copy of) the bytes decoded since the last take(). */
  take(): Buffer {
    const op = this.op;
    const b = Buffer.allocUnsafeSlow(op - this.start);
    this.out.copy(b, 0, this.start, op);
    this.full = false;
    if (this.area - op < OUT_SIZE + SLACK) {
      // Slide: the last `keep` bytes move to the start; strings before them
      // get negative offsets (rebuilt on use), literals stay at `head`.
      const shift = op - this.keep;
      this.out.copyWithin(0, shift, op);
      this.outBase += shift;
      this.rel += shift;
      if (this.rel > LzwDecoder.rebaseAt) this.rebase();
      for (let c = 0; c < 256; c++) this.rec[c << 1] = this.rel + this.head + c;
      this.op = this.keep;
    }
    this.start = this.op;
    return b;
  }

  /** Shift the positions so that offsets stay int32; strings that slid out stay below `rel`. */
  private rebase(): void {
    const r = this.rel;
    const rec = this.rec;
    for (let i = 0; i < CODES * 2; i += 2) rec[i] = Math.max(rec[i]! - r, -(1 << 30));
    this.prevStart = Math.max(this.prevStart - r, -(1 << 30));
    this.rel = 0;
  }

  private fail(msg: string, at: number): never {
    throw new ArchiveError('decompress', `compress (.Z): ${msg} at compressed byte ${at}`, { offset: this.produced }, HINT);
  }

  private parseHeader(): void {
    const h = this.header;
    if (h[0] !== MAGIC0 || h[1] !== MAGIC1) this.fail('not a compress stream (no 1F 9D magic)', 0);
    const f = h[2]!;
    const bits = f & 0x1f;
    if (bits < 9 || bits > 16) this.fail(`unsupported maximum code width ${bits} bits (flags 0x${f.toString(16)})`, 2);
    if (f & RESERVED) this.fail(`reserved flag bits set (flags 0x${f.toString(16)})`, 2);
    this.maxbits = bits;
    this.maxmaxcode = 1 << bits;
    this.block = (f & BLOCK_MODE) !== 0;
    this.freeEnt = this.block ? 257 : 256;
    const st = this.inner?.st;
    if (st) {
      st[S.maxbits] = this.maxbits;
      st[S.maxmaxcode] = this.maxmaxcode;
      st[S.clear] = this.block ? CLEAR : -1;
    }
  }

  /**
   * Decode from `inp[ip..]`; returns the index of the first byte not
   * consumed (inp.length unless `full` was set: then call again with the
   * same `inp` and the returned index).
   */
  run(inp: Uint8Array, ip: number): number {
    const n = inp.length;
    while (this.hlen < 3) {
      if (ip >= n) return ip;
      this.header[this.hlen++] = inp[ip++]!;
      this.inPos++;
      if (this.hlen === 3) this.parseHeader();
    }
    const ip0 = ip;
    const iv = new DataView(inp.buffer, inp.byteOffset, n);
    const rec = this.rec;
    const r16 = this.r16;
    const suffix = this.suffix;
    const out = this.out;
    const ov = this.outView;
    const rel = this.rel;
    const clear = this.block ? CLEAR : -1;
    const maxbits = this.maxbits;
    const maxmaxcode = this.maxmaxcode;
    /** Bit positions in `inp`: before `base` the bits are in `carry`. */
    const base = ip0 * 8;
    const end = n * 8;
    /** A code starting before this bit can be read with one 32-bit load. */
    const fastBits = (n - 3) * 8;
    // At most OUT_SIZE bytes between take()s (the window has room for them).
    const LIMIT = this.start + OUT_SIZE;
    // The hot path may write 8 bytes: it needs op + 8 <= LIMIT. Before the
    // first code it is closed (-1): that code has no previous one.
    const FAST_END = LIMIT - 8;
    let fastEnd = this.oldcode < 0 ? -1 : FAST_END;
    let bp = base + this.bitOff;
    let op = this.op;
    let nbits = this.nbits;
    let mask = (1 << nbits) - 1;
    let maxcode = this.maxcode;
    let freeEnt = this.freeEnt;
    let oldcode = this.oldcode;
    let prevStart = this.prevStart;
    let prevLen = this.prevLen;
    /** Where the current group sequence (this width, since the last CLEAR) started. */
    let gStart = bp - this.groupBits;
    let carry = this.carry;
    let skip = this.lastSkip;
    let consumed = false;
    let err = '';
    const inner = this.inner;
    /** The input area of the inner loop holds `inp` from bit wBase; its codes start before wFast. */
    let wBase = 0;
    let wFast = -1;

    for (;;) {
      // The inner loop takes every code it can (all but the first code, CLEAR,
      // bad codes, a full buffer, and those near the end of the input).
      if (inner !== undefined && oldcode >= 0 && bp >= base && bp < fastBits) {
        if (bp >= wFast) {
          const from = bp >>> 3;
          const copied = Math.min(n - from, IN_MAX);
          inner.input.set(inp.subarray(from, from + copied));
          wBase = from * 8;
          wFast = Math.min(fastBits, wBase + (copied - 3) * 8);
        }
        const st = inner.st;
        st[S.bp] = bp - wBase;
        st[S.fast] = wFast - wBase;
        st[S.op] = op;
        st[S.fastEnd] = fastEnd;
        st[S.limit] = LIMIT;
        st[S.nbits] = nbits;
        st[S.maxcode] = maxcode;
        st[S.freeEnt] = freeEnt;
        st[S.oldcode] = oldcode;
        st[S.prevStart] = prevStart;
        st[S.prevLen] = prevLen;
        st[S.gStart] = gStart - wBase;
        st[S.skip] = skip;
        st[S.rel] = rel;
        inner.run();
        bp = st[S.bp]! + wBase;
        op = st[S.op]!;
        nbits = st[S.nbits]!;
        mask = (1 << nbits) - 1;
        maxcode = st[S.maxcode]!;
        freeEnt = st[S.freeEnt]!;
        oldcode = st[S.oldcode]!;
        prevStart = st[S.prevStart]!;
        prevLen = st[S.prevLen]!;
        gStart = st[S.gStart]! + wBase;
        skip = st[S.skip]!;
      }
      if (freeEnt > maxcode) {
        // The width grows: the encoder padded the group it was filling.
        const g = nbits * 8;
        const r = (bp - gStart) % g;
        skip = r ? g - r : 0;
        bp += skip;
        gStart = bp;
        nbits++;
        mask = (1 << nbits) - 1;
        maxcode = nbits === maxbits ? maxmaxcode : mask;
      }
      let code: number;
      if (bp < fastBits && bp >= base) {
        code = (iv.getUint32(bp >>> 3, true) >>> (bp & 7)) & mask;
      } else {
        // The last bytes of the input, or a code begun in the previous one.
        const avail = end - bp;
        if (avail <= 0) {
          consumed = true;
          break;
        }
        let raw: number;
        if (bp < base) {
          raw = carry | ((inp[ip0]! | ((inp[ip0 + 1] ?? 0) << 8)) << (base - bp));
        } else {
          const b = bp >>> 3;
          raw = (inp[b]! | ((inp[b + 1] ?? 0) << 8) | ((inp[b + 2] ?? 0) << 16)) >>> (bp & 7);
        }
        if (avail < nbits) {
          carry = raw & ((1 << avail) - 1);
          consumed = true;
          break;
        }
        code = raw & mask;
      }

      if (code < freeEnt && code !== clear) {
        const s = rec[code << 1]! - rel;
        const len = r16[(code << 2) + 2]!;
        // One branch for: in the window, at most 8 bytes, room for 8 bytes.
        if ((s | (8 - len) | (fastEnd - op)) >= 0) {
          // Hot path: the string (a literal: from `head`) is in the window.
          // Copy a fixed 8 bytes; those past `len` are overwritten next.
          ov.setUint32(op, ov.getUint32(s, true), true);
          ov.setUint32(op + 4, ov.getUint32(s + 4, true), true);
          bp += nbits;
          if (freeEnt < maxmaxcode) {
            rec[freeEnt << 1] = prevStart;
            r16[(freeEnt << 2) + 2] = prevLen + 1;
            r16[(freeEnt << 2) + 3] = oldcode;
            suffix[freeEnt] = out[op]!;
            freeEnt++;
          }
          prevStart = rel + op;
          prevLen = len;
          op += len;
          oldcode = code;
          continue;
        }
      }

      // Slow path: CLEAR, the first code, KwKwK, long strings, strings
      // that slid out of the window, OUT_SIZE reached, bad codes.
      let len: number;
      if (code === clear) {
        if (oldcode < 0) {
          err = 'the stream starts with a CLEAR code';
          break;
        }
        this.clears++;
        bp += nbits;
        const g = nbits * 8;
        const r = (bp - gStart) % g;
        skip = r ? g - r : 0;
        bp += skip;
        gStart = bp;
        // One below the first free code: the next code re-fills slot 256, never read.
        freeEnt = 256;
        nbits = 9;
        mask = 511;
        maxcode = 511;
        continue;
      } else if (code < freeEnt) {
        len = r16[(code << 2) + 2]!;
        if (op + len > LIMIT) {
          this.full = true;
          break;
        }
        const s = rec[code << 1]! - rel;
        if (s >= 0) {
          if (len <= 16) {
            for (let i = 0; i < len; i++) out[op + i] = out[s + i]!;
          } else {
            out.copyWithin(op, s, s + len);
          }
        } else {
          walk(out, op + len, code, r16, suffix);
          // Re-home the entry: its next use is a copy from the window.
          rec[code << 1] = rel + op;
        }
      } else {
        if (code > freeEnt || oldcode < 0) {
          err = `bad code ${code} (next free code is ${freeEnt}, ${nbits}-bit codes)`;
          break;
        }
        // KwKwK: the code being defined, the previous string plus its own first byte.
        len = prevLen + 1;
        if (op + len > LIMIT) {
          this.full = true;
          break;
        }
        const s = prevStart - rel;
        if (s >= 0) {
          out.copyWithin(op, s, s + prevLen);
        } else {
          walk(out, op + prevLen, oldcode, r16, suffix);
        }
        out[op + prevLen] = out[op]!;
      }
      bp += nbits;
      if (freeEnt < maxmaxcode && oldcode >= 0) {
        rec[freeEnt << 1] = prevStart;
        r16[(freeEnt << 2) + 2] = prevLen + 1;
        r16[(freeEnt << 2) + 3] = oldcode;
        suffix[freeEnt] = out[op]!;
        freeEnt++;
      }
      prevStart = rel + op;
      prevLen = len;
      op += len;
      oldcode = code;
      fastEnd = FAST_END;
    }
    // Input used up: the next input starts `bp - end` bits in (a skip that
    // ran past this one) or continues the `carry` bits. Stopped early: the
    // caller passes `inp` again from the returned byte.
    const ret = consumed ? n : bp < base ? ip0 : bp >>> 3;
    this.bitOff = bp - ret * 8;
    this.carry = carry;
    this.lastSkip = skip;
    if (consumed) this.noteTail(inp);
    this.groupBits = (bp - gStart) % (nbits * 8);
    this.op = op;
    this.nbits = nbits;
    this.maxcode = maxcode;
    this.freeEnt = freeEnt;
    this.oldcode = oldcode;
    this.prevStart = prevStart;
    this.prevLen = prevLen;
    if (err) this.fail(err, this.inPos + Math.max(0, (bp + nbits - 1) >> 3) - ip0);
    this.inPos += ret - ip0;
    return ret;
  }

  /** Update zeroTail with a chunk run() has used up. */
  private noteTail(inp: Uint8Array): void {
    let i = inp.length - 1;
    while (i >= 0 && inp[i] === 0) i--;
    const zeros = (inp.length - 1 - i) * 8;
    // Codes are packed LSB-first: a byte's high bits come last in the stream.
    this.zeroTail = i < 0 ? this.zeroTail + zeros : zeros + Math.clz32(inp[i]!) - 24;
  }

  /**
   * End of input. A compress stream has no end code: it ends after its last
   * code, inside the last byte, with any group padding complete. Leftover
   * bits beyond that byte, or missing padding, mean it was cut.
   */
  finish(): void {
    if (this.hlen < 3) {
      throw new TruncatedError(`compress (.Z) header cut short: ${this.hlen} of 3 bytes`, { offset: 0 });
    }
    // Bits after the last whole code: part of a code, or the part present of
    // a group that a width change or CLEAR skipped. The encoder leaves at
    // most 7 (its last byte); more mean a cut, unless they are all zero: NUL
    // padding to a tape or dd block, which uncompress, gzip and bsdtar read
    // past (the padding decodes to NUL bytes, which an archive's end allows).
    const left = this.bitOff > 0 ? this.lastSkip - this.bitOff : -this.bitOff;
    if ((this.bitOff > 0 || this.bitOff <= -8) && left > this.zeroTail) {
      throw new TruncatedError(`compress (.Z) stream cut in the middle of a code at compressed byte ${this.inPos}`, { offset: this.produced });
    }
  }
}

/** Decoded bytes worth handing out at the end of an input chunk. */
export const YIELD_MIN = 32 * 1024;

/** Decode a compress stream. Pull-based: at most one output buffer is decoded ahead. */
export async function* unlzw(src: AsyncIterable<Buffer>, signal?: AbortSignal): AsyncGenerator<Buffer> {
  const d = new LzwDecoder();
  for await (const chunk of src) {
    signal?.throwIfAborted();
    let ip = 0;
    while (ip < chunk.length) {
      ip = d.run(chunk, ip);
      if (d.full) {
        yield d.take();
        signal?.throwIfAborted();
      }
    }
    if (d.pending >= YIELD_MIN) yield d.take();
  }
  d.finish();
  if (d.pending > 0) yield d.take();
}
