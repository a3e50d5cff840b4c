// Entries out as a POSIX pax (ustar + extended headers) archive, for convert.
// Our own writer rather than tar-stream's packer: we need raw non-UTF-8 names
// (hdrcharset=BINARY), uids over 2097151, nanosecond mtimes and sparse files
// written out in full, all streamed with backpressure.

import type { Writable } from 'node:stream';
import type { Entry } from '../entry.js';
import type { Sink, SinkStats } from './types.js';

const BLOCK = 512;
const RECORD = 10240;
const ZERO = Buffer.alloc(RECORD);

const TYPEFLAG: Record<string, string> = { file: '0', hardlink: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6' };

function octal(buf: Buffer, off: number, len: number, v: number): boolean {
  const s = v.toString(8);
  if (v < 0 || s.length > len - 1) return false;
  buf.write(s.padStart(len - 1, '0'), off, 'latin1');
  buf[off + len - 1] = 0;
  return true;
}

function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`, 'latin1'), value, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len), 'latin1'), body]);
}

function isUtf8(b: Buffer): boolean {
  return Buffer.from(b.toString('utf8'), 'utf8').equals(b);
}

/** Split a name into ustar prefix (<=155) and name (<=100) at a slash, if it fits. */
function splitUstar(name: Buffer): [Buffer, Buffer] | null {
  if (name.length <= 100) return [Buffer.alloc(0), name];
  for (let i = name.length - 1; i > 0; i--) {
    if (name[i] !== 0x2f) continue;
    if (i <= 155 && name.length - i - 1 <= 100 && name.length - i - 1 > 0) return [name.subarray(0, i), name.subarray(i + 1)];
    if (i < name.length - 101) break;
  }
  return null;
}

export class PaxWriter implements Sink {
  private readonly stats: SinkStats = { entries: 0, bytes: 0, skipped: {} };
  private written = 0;
  private paxSeq = 0;

  constructor(private readonly out: Writable) {}

  private async put(b: Buffer): Promise<void> {
    this.written += b.length;
    if (!this.out.write(b)) await new Promise<void>((resolve, reject) => {
      const onErr = (e: Error) => { this.out.off('drain', onDrain); reject(e); };
      const onDrain = () => { this.out.off('error', onErr); resolve(); };
      this.out.once('drain', onDrain);
      this.out.once('error', onErr);
    });
  }

  private header(name: Buffer, type: string, e: Entry, size: number, link: Buffer): { hdr: Buffer; pax: Buffer[] } {
    const h = Buffer.alloc(BLOCK);
    const pax: Buffer[] = [];
    const binary = !isUtf8(name) || !isUtf8(link);
    const split = splitUstar(name);
    if (split && isUtf8(name)) {
      split[1].copy(h, 0);
      split[0].copy(h, 345);
    } else {
      pax.push(paxRecord('path', name));
      name.subarray(0, 100).copy(h, 0);
    }
    octal(h, 100, 8, e.mode & 0o7777);
    if (!octal(h, 108, 8, e.uid)) { pax.push(paxRecord('uid', Buffer.from(String(e.uid)))); octal(h, 108, 8, 0); }
    if (!octal(h, 116, 8, e.gid)) { pax.push(paxRecord('gid', Buffer.from(String(e.gid)))); octal(h, 116, 8, 0); }
    if (!octal(h, 124, 12, size)) { pax.push(paxRecord('size', Buffer.from(String(size)))); octal(h, 124, 12, 0); }
    if (!octal(h, 136, 12, e.mtime) || e.mtimeNsec) {
      const frac = e.mtimeNsec ? `.${String(e.mtimeNsec).padStart(9, '0').replace(/0+$/, '')}` : '';
      pax.push(paxRecord('mtime', Buffer.from(`${e.mtime}${frac}`)));
      if (!octal(h, 136, 12, e.mtime)) octal(h, 136, 12, 0);
    }
    h.write(type, 156, 'latin1');
    if (link.length > 100 || (link.length && !isUtf8(link))) pax.push(paxRecord('linkpath', link));
    link.subarray(0, 100).copy(h, 157);
    h.write('ustar\x0000', 257, 'latin1');
    octal(h, 329, 8, e.devMajor ?? 0);
    octal(h, 337, 8, e.devMinor ?? 0);
    if (binary && pax.length) pax.unshift(paxRecord('hdrcharset', Buffer.from('BINARY')));
    for (const [k, v] of Object.entries(e.xattrs ?? {})) if (k.startsWith('SCHILY.xattr.')) pax.push(paxRecord(k, v));
    return { hdr: h, pax };
  }

  private async putHeader(h: Buffer): Promise<void> {
    h.fill(0x20, 148, 156);
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += h[i]!;
    h.write(sum.toString(8).padStart(6, '0'), 148, 'latin1');
    h[154] = 0;
    h[155] = 0x20;
    await this.put(h);
  }

  async write(e: Entry): Promise<void> {
    const type = TYPEFLAG[e.type];
    if (!type) {
      this.stats.skipped[e.type] = (this.stats.skipped[e.type] ?? 0) + 1;
      return;
    }
    let name = Buffer.from(e.path.replace(/^(\.?\/)+/, ''), 'latin1');
    if (name.length === 0) return;
    if (e.type === 'dir' && name[name.length - 1] !== 0x2f) name = Buffer.concat([name, Buffer.from('/')]);
    const link = Buffer.from((e.type === 'symlink' || e.type === 'hardlink' ? e.linkTarget ?? '' : '').replace(e.type === 'hardlink' ? /^(\.?\/)+/ : /^$/, ''), 'latin1');
    const size = e.type === 'file' ? e.size : 0;
    const { hdr, pax } = this.header(name, type, e, size, link);
    if (pax.length) {
      const body = Buffer.concat(pax);
      const x = Buffer.alloc(BLOCK);
      x.write(`PaxHeaders/${++this.paxSeq}`, 0, 'latin1');
      octal(x, 100, 8, 0o644);
      octal(x, 108, 8, 0);
      octal(x, 116, 8, 0);
      octal(x, 124, 12, body.length);
      octal(x, 136, 12, Math.max(0, Math.min(e.mtime, 0o77777777777)));
      x.write('x', 156, 'latin1');
      x.write('ustar\x0000', 257, 'latin1');
      await this.putHeader(x);
      await this.put(body);
      await this.pad(body.length);
    }
    await this.putHeader(hdr);
    if (e.type === 'file') {
      let n = 0;
      if (e.sparse) {
        // Written out in full: holes become zeros (tar -S can re-sparsify).
        let pos = 0;
        const it = e.body()[Symbol.asyncIterator]();
        let pending: Buffer = Buffer.alloc(0);
        for (const r of e.sparse) {
          if (r.offset > pos) { await this.zeros(r.offset - pos); n += r.offset - pos; pos = r.offset; }
          let left = r.length;
          while (left > 0) {
            if (pending.length === 0) { const x = await it.next(); if (x.done) throw new Error('sparse body shorter than its map'); pending = x.value; }
            const k = Math.min(left, pending.length);
            await this.put(pending.subarray(0, k));
            pending = pending.subarray(k);
            left -= k; pos += k; n += k;
          }
        }
        if (size > pos) { await this.zeros(size - pos); n += size - pos; }
      } else {
        for await (const c of e.body()) { await this.put(c); n += c.length; }
      }
      if (n !== size) throw new Error(`${e.path}: body is ${n} bytes, header says ${size}`);
      await this.pad(size);
      this.stats.bytes += size;
    }
    this.stats.entries++;
  }

  private async zeros(n: number): Promise<void> {
    while (n > 0) { const k = Math.min(n, ZERO.length); await this.put(ZERO.subarray(0, k)); n -= k; }
  }

  private async pad(n: number): Promise<void> {
    const r = n % BLOCK;
    if (r) await this.put(ZERO.subarray(0, BLOCK - r));
  }

  async removeWritten(): Promise<number> {
    return 0; // already streamed out: a rule must decide before the entry passes
  }

  async finish(): Promise<SinkStats> {
    await this.put(ZERO.subarray(0, 2 * BLOCK));
    const r = this.written % RECORD;
    if (r) await this.put(ZERO.subarray(0, RECORD - r));
    await new Promise<void>((resolve, reject) => this.out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    return this.stats;
  }

  async abort(): Promise<string[]> {
    this.out.destroy();
    return [];
  }
}
