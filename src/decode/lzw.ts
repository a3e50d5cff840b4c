// compress(1) .Z decoder (reference/formats.md section 5): LSB-first LZW
// codes of 9..maxbits bits, CLEAR = 256 in block mode, and the "bit group"
// quirk: on a width change or a CLEAR the encoder flushes its whole buffer of
// 8 codes, so the decoder skips to the end of the current group.
//
// Speed: every dictionary string already sits, contiguous, in the output (it
// is the previous code's string plus one byte), so a code whose string lies
// in the current output buffer is a plain copy from there; only strings from
// an older buffer walk the prefix chain. Tables are typed arrays; there is no
// per-code allocation. Memory: ~0.6 MiB of tables plus one 1 MiB output buffer,
// whatever the input. A run stops when the output buffer is full, so a bomb
// cannot make one input chunk expand without bound.

import { ArchiveError, TruncatedError } from '../errors.js';

const MAGIC0 = 0x1f;
const MAGIC1 = 0x9d;
const BLOCK_MODE = 0x80;
const RESERVED = 0x60;
const CLEAR = 256;
/** Longest possible string: 65536 - 257 table entries plus one. */
const MAX_STRING = 65281;
/** Output buffer size; always more than MAX_STRING, so a fresh buffer fits any code. */
const OUT_SIZE = 1024 * 1024;

const HINT = 'the .Z data is corrupt or truncated: check the transfer, or compare with `uncompress -c`';

/** True when `head` starts like a compress stream with sane flags. */
export function isCompressHeader(head: Uint8Array): boolean {
  if (head.length < 3 || head[0] !== MAGIC0 || head[1] !== MAGIC1) return false;
  const f = head[2]!;
  const bits = f & 0x1f;
  return bits >= 9 && bits <= 16 && (f & RESERVED) === 0;
}

/**
 * Incremental decoder: feed chunks to run(), collect output with take().
 * Error offsets: `offset` is the decoded byte count, the message names the
 * compressed byte.
 */
export class LzwDecoder {
  /** `rel` value that triggers rebase(); lowered by tests to exercise it. */
  static rebaseAt = 1 << 30;

  private readonly prefix = new Uint16Array(65536);
  private readonly suffix = new Uint8Array(65536);
  private readonly lens = new Uint16Array(65536);
  /** Absolute decoded offset where each entry's string was written. */
  /**
   * Where each entry's string was written, as an offset from `rel` (int32
   * arithmetic; see rebase()). Negative once its buffer has been handed out.
   */
  private readonly pos = new Int32Array(65536);

  private readonly header = Buffer.alloc(3);
  private hlen = 0;
  private maxbits = 16;
  private maxmaxcode = 1 << 16;
  private block = true;

  private bitbuf = 0;
  private bitcnt = 0;
  private nbits = 9;
  /**
   * Largest code at the current width. Starts at 511 even for maxbits 9 and
   * grows to 10 bits once the table is full, as Solaris, compress 4.0, gzip
   * and ncompress's uncompress read it.
   */
  private maxcode = 511;
  private freeEnt = 257;
  private oldcode = -1;
  private finchar = 0;
  /** The previous code's string, as an offset from `rel`. */
  private prevStart = 0;
  /** Bits still to discard to reach the end of the current 8-code group. */
  private skip = 0;
  /** Codes read since the current width (group sequence) started. */
  private groupCodes = 0;

  private out = Buffer.allocUnsafe(OUT_SIZE);
  /** Decoded bytes before out[0]. */
  private bufBase = 0;
  /** Offset of out[0] in the `pos` coordinates; kept under 2^30 by rebase(). */
  private rel = 0;
  private op = 0;
  private start = 0;
  /** CLEAR codes seen (for tests and diagnostics). */
  clears = 0;
  /** Set when the next string does not fit in the output buffer: take() then run() again. */
  full = false;

  /** Compressed bytes consumed. */
  private inPos = 0;

  constructor() {
    for (let c = 0; c < 256; c++) {
      this.suffix[c] = c;
      this.lens[c] = 1;
    }
  }

  /** Decoded bytes produced so far. */
  get produced(): number {
    return this.bufBase + this.op;
  }

  /** The memory the decoder writes into now (take() may replace it). */
  get buffer(): ArrayBufferLike {
    return this.out.buffer;
  }

  /** Decoded bytes not yet handed out. */
  get pending(): number {
    return this.op - this.start;
  }

  /** Hand out the bytes decoded since the last take() (zero-copy). */
  take(): Buffer {
    const b = this.out.subarray(this.start, this.op);
    if (this.full || this.out.length - this.op < MAX_STRING) {
      this.bufBase += this.op;
      this.rel += this.op;
      if (this.rel > LzwDecoder.rebaseAt) this.rebase();
      this.out = Buffer.allocUnsafe(OUT_SIZE);
      this.op = 0;
      this.full = false;
    }
    this.start = this.op;
    return b;
  }

  /** Shift `pos` so that offsets stay int32; strings from old buffers stay negative. */
  private rebase(): void {
    const r = this.rel;
    const pos = this.pos;
    for (let i = 0; i < pos.length; i++) pos[i] = Math.max(pos[i]! - r, -(1 << 30));
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
  }

  /**
   * Decode from `inp[ip..]`; returns the index of the first byte not
   * consumed (inp.length unless `full` was set).
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
    const prefix = this.prefix;
    const suffix = this.suffix;
    const lens = this.lens;
    const pos = this.pos;
    const out = this.out;
    const outLen = out.length;
    const rel = this.rel;
    const block = this.block;
    const maxbits = this.maxbits;
    const maxmaxcode = this.maxmaxcode;
    let op = this.op;
    let bitbuf = this.bitbuf;
    let bitcnt = this.bitcnt;
    let nbits = this.nbits;
    let mask = (1 << nbits) - 1;
    let maxcode = this.maxcode;
    let freeEnt = this.freeEnt;
    let oldcode = this.oldcode;
    let finchar = this.finchar;
    let prevStart = this.prevStart;
    let skip = this.skip;
    let groupCodes = this.groupCodes;
    let err = '';

    for (;;) {
      if (freeEnt > maxcode) {
        // The width grows: the encoder padded the group it was filling.
        const r = groupCodes & 7;
        skip = r ? (8 - r) * nbits : 0;
        groupCodes = 0;
        nbits++;
        mask = (1 << nbits) - 1;
        maxcode = nbits === maxbits ? maxmaxcode : mask;
      }
      if (skip > 0) {
        if (bitcnt >= skip) {
          bitbuf >>>= skip;
          bitcnt -= skip;
          skip = 0;
        } else {
          skip -= bitcnt;
          bitbuf = 0;
          bitcnt = 0;
          if (skip > (n - ip) * 8) {
            skip -= (n - ip) * 8;
            ip = n;
            break;
          }
          ip += skip >>> 3;
          skip &= 7;
          if (skip > 0) {
            bitbuf = inp[ip++]! >>> skip;
            bitcnt = 8 - skip;
            skip = 0;
          }
        }
      }
      if (bitcnt < nbits) {
        if (ip + 1 < n) {
          bitbuf |= (inp[ip]! | (inp[ip + 1]! << 8)) << bitcnt;
          ip += 2;
          bitcnt += 16;
        } else {
          if (ip < n) {
            bitbuf |= inp[ip++]! << bitcnt;
            bitcnt += 8;
          }
          if (bitcnt < nbits) break;
        }
      }
      const code = bitbuf & mask;
      let len = 1;

      if (code < 256) {
        if (op >= outLen) {
          this.full = true;
          break;
        }
        out[op] = code;
        finchar = code;
      } else if (code === CLEAR && block) {
        if (oldcode < 0) {
          err = 'the stream starts with a CLEAR code';
          break;
        }
        this.clears++;
        bitbuf >>>= nbits;
        bitcnt -= nbits;
        const r = (groupCodes + 1) & 7;
        skip = r ? (8 - r) * nbits : 0;
        groupCodes = 0;
        // One below the first free code: the next code re-fills slot 256, never read.
        freeEnt = 256;
        nbits = 9;
        mask = 511;
        maxcode = 511;
        continue;
      } else if (code < freeEnt) {
        len = lens[code]!;
        if (op + len > outLen) {
          this.full = true;
          break;
        }
        const s = pos[code]! - rel;
        if (s >= 0) {
          // The string is already in this buffer: copy it.
          if (len <= 24) {
            for (let i = 0; i < len; i++) out[op + i] = out[s + i]!;
          } else {
            out.copyWithin(op, s, s + len);
          }
        } else {
          let p = op + len;
          let c = code;
          while (c >= 256) {
            out[--p] = suffix[c]!;
            c = prefix[c]!;
          }
          out[--p] = c;
        }
        finchar = out[op]!;
      } else {
        if (code > freeEnt || oldcode < 0) {
          err = `bad code ${code} (next free code is ${freeEnt}, ${nbits}-bit codes)`;
          break;
        }
        // KwKwK: the code being defined, the previous string plus its own first byte.
        len = lens[oldcode]! + 1;
        if (op + len > outLen) {
          this.full = true;
          break;
        }
        const s = prevStart - rel;
        if (s >= 0) {
          if (len <= 24) {
            for (let i = 0; i < len - 1; i++) out[op + i] = out[s + i]!;
          } else {
            out.copyWithin(op, s, s + len - 1);
          }
        } else {
          let p = op + len - 1;
          let c = oldcode;
          while (c >= 256) {
            out[--p] = suffix[c]!;
            c = prefix[c]!;
          }
          out[--p] = c;
        }
        finchar = out[op]!;
        out[op + len - 1] = finchar;
      }
      bitbuf >>>= nbits;
      bitcnt -= nbits;
      groupCodes++;
      if (freeEnt < maxmaxcode && oldcode >= 0) {
        prefix[freeEnt] = oldcode;
        suffix[freeEnt] = finchar;
        lens[freeEnt] = lens[oldcode]! + 1;
        pos[freeEnt] = prevStart;
        freeEnt++;
      }
      prevStart = rel + op;
      op += len;
      oldcode = code;
    }
    this.op = op;
    this.bitbuf = bitbuf;
    this.bitcnt = bitcnt;
    this.nbits = nbits;
    this.maxcode = maxcode;
    this.freeEnt = freeEnt;
    this.oldcode = oldcode;
    this.finchar = finchar;
    this.prevStart = prevStart;
    this.skip = skip;
    this.groupCodes = groupCodes;
    this.inPos += ip - ip0;
    if (err) this.fail(err, this.inPos - 1);
    return ip;
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
    if (this.skip > 0 || this.bitcnt >= 8) {
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
