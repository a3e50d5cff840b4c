// The cpio files of the conformance corpus (libarchive's test archives) must
// list as bsdtar lists them in REFERENCE.txt: names byte for byte (as bsdtar
// escapes them), types, modes, link counts, owners, sizes, dates, link
// targets and link groups. Where bsdtar failed, we must fail with an
// ArchiveError. Truncated copies must fail cleanly, never hang or crash.

import { CONFORMANCE_DIR } from './lib/conformance.js';
import t from 'tap';
import fs from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import type { Entry } from '../src/entry.js';
import { ArchiveError } from '../src/errors.js';
import { openArchive } from '../src/formats/index.js';
import { decodeStream } from '../src/decode/index.js';
import { formatListing, listingWidths } from '../src/formats/list.js';

process.env.TZ = 'UTC';
const DIR = CONFORMANCE_DIR;
const REF = path.join(DIR, 'REFERENCE.txt');
const HAVE = fs.existsSync(REF);

interface RefSection {
  lines: string[];
  exit: number;
}

function readReference(): Map<string, RefSection> {
  const out = new Map<string, RefSection>();
  let cur: RefSection | null = null;
  for (const line of fs.readFileSync(REF, 'utf8').split('\n')) {
    const m = /^== (.+)$/.exec(line);
    if (m) {
      cur = { lines: [], exit: -1 };
      out.set(m[1]!, cur);
      continue;
    }
    if (!cur) continue;
    const x = /^bsdtar exit (\d+)$/.exec(line);
    if (x) cur.exit = Number(x[1]);
    else if (/^[-dlhpcbs][-rwxsStT]{9}[ +] /.test(line)) cur.lines.push(line);
  }
  return out;
}

interface Rec {
  type: string;
  perms: string;
  nlink: number;
  uid: string;
  gid: string;
  size: number;
  date: string;
  name: string;
  symlink?: string;
  hardlink?: string;
  line: string;
}

const LINE = /^(.)(\S{9})[ +] +(\d+) (\S+) +(\S+) +(\d+) (\w{3} [ \d]\d (?: \d{4}|\d\d:\d\d)) (.*)$/;

function rec(line: string): Rec {
  const m = LINE.exec(line);
  if (!m) throw new Error(`unparsable listing line: ${line}`);
  const r: Rec = { type: m[1]!, perms: m[2]!, nlink: Number(m[3]), uid: m[4]!, gid: m[5]!, size: Number(m[6]), date: m[7]!, name: m[8]!, line };
  if (r.type === 'l') [r.name, r.symlink] = r.name.split(' -> ') as [string, string];
  else if (r.name.includes(' link to ')) [r.name, r.hardlink] = r.name.split(' link to ') as [string, string];
  return r;
}

/** Hard-link groups as sorted name lists, from "X link to Y" relations. */
function groups(recs: Rec[]): Map<string, string[]> {
  const parent = new Map<string, string>();
  const find = (x: string): string => (parent.get(x) === undefined || parent.get(x) === x ? x : find(parent.get(x)!));
  for (const r of recs) if (r.hardlink) parent.set(find(r.name), find(r.hardlink));
  const out = new Map<string, string[]>();
  for (const r of recs) {
    if (!r.hardlink && !recs.some((o) => o.hardlink === r.name)) continue;
    const root = find(r.name);
    out.set(root, [...(out.get(root) ?? []), r.name].sort());
  }
  return new Map([...out.values()].map((g) => [g.join('|'), g]));
}

const dayOf = (date: string) => {
  const m = /^(\w{3}) ([ \d]\d)  (\d{4})$/.exec(date);
  return m ? Date.UTC(Number(m[3]), ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'].indexOf(m[1]!), Number(m[2])) / 86400000 : NaN;
};

async function listAll(file: string | Buffer): Promise<{ entries: Entry[]; sizes: Map<string, number>; lines: string[]; error: unknown }> {
  const entries: Entry[] = [];
  const sizes = new Map<string, number>();
  const lines: string[] = [];
  const widths = listingWidths();
  const src = typeof file === 'string' ? fs.createReadStream(file) : (async function* () { yield file; })();
  let error: unknown = null;
  const run = async () => {
    for await (const e of openArchive(src)) {
      let n = 0;
      for await (const c of e.body()) n += c.length;
      entries.push(e);
      sizes.set(e.path, n);
      lines.push(formatListing(e, { widths }));
    }
  };
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([run(), new Promise((_, rej) => (timer = setTimeout(() => rej(new Error('timeout: the parser hung')), 15000)))]);
  } catch (e) {
    error = e;
  } finally {
    clearTimeout(timer);
  }
  return { entries, sizes, lines, error };
}

async function decodes(file: string): Promise<boolean> {
  const d = await decodeStream(fs.createReadStream(file));
  for await (const _ of d.data) break;
  return d.layers.length > 0;
}

t.test('conformance corpus: cpio', { skip: HAVE ? false : `${REF} not found` }, async (t) => {
  const ref = readReference();
  const files = fs.readdirSync(DIR).filter((f) => /cpio/.test(f) && !f.endsWith('.ustar') && ref.has(f)).sort();
  t.ok(files.length >= 12, `${files.length} cpio files in the corpus`);
  for (const f of files) {
    const file = path.join(DIR, f);
    const want = ref.get(f)!;
    const compressed = /\.(Z|gz|bz2|xz)$/.test(f);
    const skip = compressed && !(await decodes(file)) ? `the decode stage does not undo ${path.extname(f)} yet` : false;
    await t.test(f, { skip }, async (t) => {
      const got = await listAll(file);
      if (want.exit !== 0) {
        t.ok(got.error instanceof ArchiveError, `bsdtar failed (exit ${want.exit}): we fail with an ArchiveError (${String(got.error)})`);
        const names = new Set(want.lines.map((l) => rec(l).name));
        for (const l of got.lines) t.ok(names.has(rec(l).name), `entry listed before the error is one bsdtar listed: ${rec(l).name}`);
        return;
      }
      t.equal(got.error, null, 'parses without error');
      const theirs = want.lines.map(rec);
      const ours = got.lines.map(rec);
      t.same(ours.map((r) => r.name).sort(), theirs.map((r) => r.name).sort(), 'same names (escaped as bsdtar prints them)');
      const tg = groups(theirs);
      const og = groups(ours);
      t.same([...og.keys()].sort(), [...tg.keys()].sort(), 'same hard-link groups');
      for (const o of ours) {
        const r = theirs.find((x) => x.name === o.name);
        if (!r) continue;
        const inGroup = [...tg.values()].some((g) => g.includes(o.name));
        t.same([o.perms, o.nlink, o.uid, o.gid], [r.perms, r.nlink, r.uid, r.gid], `${o.name}: mode bits, link count, owner`);
        t.ok(Math.abs(dayOf(o.date) - dayOf(r.date)) <= 1 || o.date === r.date, `${o.name}: date ${o.date} ~ ${r.date}`);
        if (r.type === 'l') {
          t.same([o.type, o.symlink, Buffer.byteLength(o.symlink ?? '')], ['l', r.symlink, r.size], `${o.name}: symlink target`);
        } else if (inGroup) {
          t.ok(o.type === '-' || o.type === 'h', `${o.name}: member of a link group`);
        } else {
          t.equal(o.type, r.type, `${o.name}: type`);
          t.equal(o.line, r.line, `${o.name}: listing line identical to bsdtar's`);
          const e = got.entries.find((x) => formatListing(x).endsWith(` ${o.name}`));
          if (e?.type === 'file') t.equal(got.sizes.get(e.path), r.size, `${o.name}: body length`);
        }
      }
      // A link group's data: the largest size bsdtar shows for its members.
      for (const [key, names] of tg) {
        const size = Math.max(...theirs.filter((x) => names.includes(x.name)).map((x) => x.size));
        const file = got.entries.find((e) => e.type === 'file' && names.some((n) => formatListing(e).endsWith(` ${n}`)));
        t.equal(file && got.sizes.get(file.path), size, `group ${key}: one file carries ${size} bytes`);
      }
    });
  }
});

t.test('conformance corpus: truncated copies fail cleanly', { skip: HAVE ? false : `${REF} not found` }, async (t) => {
  const files = fs.readdirSync(DIR).filter((f) => /cpio/.test(f) && /\.(cpio|bin|crc|newc)$/.test(f));
  for (const f of files) {
    const full = fs.readFileSync(path.join(DIR, f));
    const whole = await listAll(full);
    let bad = 0;
    const step = Math.max(1, Math.floor(full.length / 400));
    for (let cut = 0; cut < full.length; cut += step) {
      const got = await listAll(full.subarray(0, cut));
      if (got.error === null) {
        if (whole.error !== null || got.lines.join('\n') !== whole.lines.join('\n')) {
          bad++;
          t.fail(`${f} cut at ${cut}: parsed cleanly but differently`);
        }
      } else if (!(got.error instanceof ArchiveError)) {
        bad++;
        t.fail(`${f} cut at ${cut}: ${String(got.error)}`);
      }
    }
    t.equal(bad, 0, `${f}: every truncation fails with an ArchiveError or parses the whole archive`);
  }
});

t.test('listing lines equal bsdtar -tv on a generated newc archive', { skip: spawnSync('bsdtar', ['--version'], { stdio: 'ignore' }).error ? 'bsdtar not installed' : false }, async (t) => {
  const base = fs.mkdtempSync('/tmp/zonep2v-list-');
  t.teardown(() => fs.rmSync(base, { recursive: true, force: true }));
  const P = (rel: string) => path.join(base, rel);
  fs.mkdirSync(P('d'));
  fs.chmodSync(P('d'), 0o1777);
  fs.mkdirSync(P('g'));
  fs.chmodSync(P('g'), 0o2750);
  fs.writeFileSync(P('suid'), 'x');
  fs.chmodSync(P('suid'), 0o4755);
  fs.writeFileSync(P('suid-noexec'), 'x');
  fs.chmodSync(P('suid-noexec'), 0o6644);
  fs.writeFileSync(P('big'), Buffer.alloc(123456789 % 200000));
  fs.writeFileSync(Buffer.from(`${base}/\xe9t\xe9 \\ \x01 \t`, 'latin1'), '');
  fs.writeFileSync(P('recent'), 'r');
  fs.utimesSync(P('recent'), 1, Date.now() / 1000 - 86400);
  fs.writeFileSync(P('future'), 'f');
  fs.utimesSync(P('future'), 1, Date.now() / 1000 + 365 * 86400);
  fs.writeFileSync(P('wide-owner'), 'w');
  fs.chownSync(P('wide-owner'), 123456789 % 200000, 4000000);
  execFileSync('mkfifo', [P('fifo')]);
  execFileSync('mknod', [P('tty'), 'c', '4', '64']);
  execFileSync('mknod', [P('disk'), 'b', '8', '16']);
  const names = fs.readdirSync(base, { encoding: 'buffer' }).sort(Buffer.compare);
  const list = Buffer.concat(names.map((n) => Buffer.concat([n, Buffer.from([0])])));
  const archive = execFileSync('cpio', ['-o', '-0', '--quiet', '-H', 'newc'], { cwd: base, input: list });
  const theirs = execFileSync('bsdtar', ['-tvf', '-'], { input: archive, env: { ...process.env, TZ: 'UTC', LC_ALL: 'C.UTF-8' } }).toString('utf8').split('\n').filter(Boolean);
  const got = await listAll(archive);
  t.equal(got.error, null);
  t.same(got.lines, theirs, 'every line as bsdtar prints it');
});
