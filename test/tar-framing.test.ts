// Framing cases where GNU tar and bsdtar agree on how many bytes follow a
// header, so we must too: each archive hides a valid header ("smuggled")
// where one reading sees data and the other sees an entry. The entries we
// list are checked against both tools' listings when they are installed.
// Where the two disagree, strict mode refuses (security E6).

import t from 'tap';
import { spawnSync } from 'node:child_process';
import { ArchiveError } from '../src/errors.js';
import { ByteReader } from '../src/source/reader.js';
import { parseTar } from '../src/formats/tar.js';
import { makeContext } from '../src/formats/types.js';
import type { Warning } from '../src/formats/types.js';

const B = (s: string) => Buffer.from(s, 'latin1');
const pad = (d: Buffer) => Buffer.concat([d, Buffer.alloc((512 - (d.length % 512)) % 512)]);
const EOA = Buffer.alloc(1024);

function hdr(name: string, type: string, size: number, link = ''): Buffer {
  const h = Buffer.alloc(512);
  B(name).copy(h, 0);
  h.write('0000644\0', 100, 'latin1');
  h.write('0000000\0', 108, 'latin1');
  h.write('0000000\0', 116, 'latin1');
  h.write(size.toString(8).padStart(11, '0') + '\0', 124, 'latin1');
  h.write('13560514000\0', 136, 'latin1');
  h.write(type, 156, 'latin1');
  B(link).copy(h, 157);
  h.write('ustar\x0000', 257, 'latin1');
  h.fill(0x20, 148, 156);
  let s = 0;
  for (const b of h) s += b;
  h.write(s.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  return h;
}

const file = (name: string, data: string) => Buffer.concat([hdr(name, '0', data.length), pad(B(data))]);

function pax(recs: [string, string][], type = 'x'): Buffer {
  const body = Buffer.concat(
    recs.map(([k, v]) => {
      const rest = ` ${k}=${v}\n`;
      let n = rest.length;
      while (String(n).length + rest.length !== n) n = String(n).length + rest.length;
      return B(`${n}${rest}`);
    }),
  );
  return Buffer.concat([hdr('PaxHeaders/x', type, body.length), pad(body)]);
}

/** A header that is data to one reading and an entry to the other, then a last entry. */
const TAIL = Buffer.concat([file('smuggled', 'S'), file('after', 'a')]);

async function names(a: Buffer, lenient: boolean): Promise<{ names: string[]; uids: number[]; warnings: Warning[]; error: unknown }> {
  const warnings: Warning[] = [];
  const ctx = makeContext({ lenient, warn: (w) => warnings.push(w) });
  const out: string[] = [];
  const uids: number[] = [];
  let error: unknown = null;
  try {
    for await (const e of parseTar(new ByteReader((async function* () { yield a; })()), ctx)) {
      out.push(e.path);
      uids.push(e.uid);
      for await (const _ of e.body()) void _;
    }
  } catch (err) {
    error = err;
  }
  return { names: out, uids, warnings, error };
}

/** Entry names as a reference tool lists them (directories without their slash), or null when it is missing. */
function listed(tool: string, a: Buffer): string[] | null {
  const r = spawnSync(tool, ['-tf', '-'], { input: a });
  if (r.error) return null;
  return r.stdout.toString('latin1').split('\n').filter(Boolean).map((n) => n.replace(/\/$/, ''));
}

t.test('several extended headers in a row: only the last applies, as in GNU tar and bsdtar', async (t) => {
  const cases: [string, Buffer, string[], number][] = [
    ['x(size) then x(uid)', Buffer.concat([pax([['size', '1024']]), pax([['uid', '7']]), hdr('f', '0', 0), TAIL, EOA]), ['f', 'smuggled', 'after'], 7],
    ['x(uid, path) then x(size)', Buffer.concat([pax([['uid', '7'], ['path', 'first']]), pax([['size', '1024']]), hdr('f', '0', 0), pad(Buffer.alloc(1024)), file('after', 'a'), EOA]), ['f', 'after'], 0],
    ["Solaris X(size) then x(uid)", Buffer.concat([pax([['size', '1024']], 'X'), pax([['uid', '7']]), hdr('f', '0', 0), TAIL, EOA]), ['f', 'smuggled', 'after'], 7],
    ['x(size), g, x(uid)', Buffer.concat([pax([['size', '1024']]), pax([['gid', '3']], 'g'), pax([['uid', '7']]), hdr('f', '0', 0), TAIL, EOA]), ['f', 'smuggled', 'after'], 7],
  ];
  for (const [name, a, want, uid] of cases) {
    for (const tool of ['tar', 'bsdtar']) {
      const ref = listed(tool, a);
      if (ref) t.same(ref, want, `${name}: ${tool} lists ${want.join(', ')}`);
    }
    const got = await names(a, false);
    t.equal(got.error, null, `${name}: parses`);
    t.same(got.names, want, `${name}: same entries as GNU tar and bsdtar`);
    t.equal(got.uids[0], uid, `${name}: only the last header's uid`);
    t.match(got.warnings, [{ kind: 'redundant-pax' }], `${name}: warned`);
  }
});

t.test('a pax size after a symlink, device or FIFO is skipped, as both readers do', async (t) => {
  for (const [type, link] of [['2', 't'], ['3', ''], ['4', ''], ['6', '']]) {
    const a = Buffer.concat([pax([['size', '1024']]), hdr('n', type, 0, link), TAIL, EOA]);
    for (const tool of ['tar', 'bsdtar']) {
      const ref = listed(tool, a);
      if (ref) t.same(ref, ['n', 'after'], `typeflag ${type}: ${tool} skips the data`);
    }
    for (const lenient of [false, true]) {
      const got = await names(a, lenient);
      t.equal(got.error, null, `typeflag ${type}${lenient ? ' (lenient)' : ''}: parses`);
      t.same(got.names, ['n', 'after'], `typeflag ${type}${lenient ? ' (lenient)' : ''}: the 1024 bytes are skipped`);
      t.match(got.warnings, [{ kind: 'data-skipped' }]);
    }
  }
  // The ustar size alone is still ambiguous (GNU tar skips it, bsdtar does not).
  const hs = await names(Buffer.concat([hdr('s', '2', 1024, 't'), TAIL, EOA]), false);
  t.match(hs.error, { kind: 'ambiguous-size' }, 'ustar size on a symlink: still refused');
});

t.test('a pax size on a directory: readers disagree, so strict refuses and lenient reads as bsdtar', async (t) => {
  const a = Buffer.concat([pax([['size', '1024']]), hdr('d/', '5', 0), TAIL, EOA]);
  const gnu = listed('tar', a);
  if (gnu) t.same(gnu, ['d', 'smuggled', 'after'], 'GNU tar reads no data after a directory');
  const bsd = listed('bsdtar', a);
  if (bsd) t.same(bsd, ['d', 'after'], 'bsdtar skips the pax size');
  const strict = await names(a, false);
  t.ok(strict.error instanceof ArchiveError, 'strict: refused');
  t.match(strict.error, { kind: 'ambiguous-size' });
  const lenient = await names(a, true);
  t.equal(lenient.error, null);
  t.same(lenient.names, ['d', 'after'], 'lenient: as bsdtar');
  // A ustar size on a directory frames nothing for either reader.
  const plain = await names(Buffer.concat([hdr('d/', '5', 1024), TAIL, EOA]), false);
  t.same(plain.names, ['d', 'smuggled', 'after'], 'ustar size on a directory: no data, as both readers');
});
