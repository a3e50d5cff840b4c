// pkginfo parsing (continuation lines, quoting, PATCH_INFO with Obsoletes and
// Requires) and the package inventory: the streaming 'inventory' rule (which
// must hand every body on intact), the host-side reader, and the manifest.

import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Entry, EntryType } from '../src/entry.js';
import { Report } from '../src/rules/report.js';
import type { RuleContext } from '../src/rules/types.js';
import { logicalLines, parseDepend, parseGzOnly, parseInstRelease, parsePkginfo, etcReleaseLine } from '../src/attach/pkginfo.js';
import { InventoryRule, inventoryFromRoot, inventoryFromManifest } from '../src/attach/inventory.js';
import { writeDetachedManifest } from '../src/attach/manifest.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.resolve(here, '../../test/fixtures/attach');
const CSR = fs.readFileSync(path.join(fixtures, 'pkginfo.SUNWcsr'));

t.test('parsePkginfo: real SUNWcsr pkginfo', async (t) => {
  const p = parsePkginfo(CSR.toString('latin1'));
  t.equal(p.pkg, 'SUNWcsr');
  t.equal(p.version, '11.10.0,REV=2005.01.21.16.34');
  t.same([p.hollow, p.allZones, p.thisZone], [false, true, false]);
  t.equal(p.values.get('NAME'), 'Core Solaris, (Root)', 'double quotes removed');
  t.equal(p.values.get('DESC'), 'core software for a specific instruction-set architecture', 'single quotes removed');
  t.equal(p.values.get('EMAIL'), '');
  t.notOk(p.values.has('#FASPACD'), 'comment line ignored');
  t.same(p.patchlist, ['118844-30', '119255-59', '120012-14', '141445-09', '119254-9', '119254-70'], 'continued PATCHLIST');
  t.same([...p.patches], [
    ['118844', { rev: '30', obsoletes: ['118344', '118367'], requires: [] }],
    ['119255', { rev: '59', obsoletes: [], requires: ['118844'] }],
    ['141445', { rev: '09', obsoletes: ['137138', '138889', '139555'], requires: ['118844', '120012'] }],
    ['119254', { rev: '70', obsoletes: ['119015'], requires: ['121133'] }],
  ], 'highest installed rev per number (70 beats 9 numerically); backed-out 120012 skipped; continued Obsoletes');
});

t.test('small readers', async (t) => {
  t.same(logicalLines('A=1 \\\n2\\\n3\nB=4\n'), ['A=1 23', 'B=4']);
  t.same(logicalLines('A=1\\'), ['A=1'], 'continuation at end of file');
  t.same(parsePkginfo('PKG=SUNWx\nSUNW_PKG_HOLLOW=TRUE\nSUNW_PKG_THISZONE=true\nPATCH_INFO_100000-01=Installed: x Obsoletes: 1-01,2-02 Incompatibles: 3\n').patches.get('100000'),
    { rev: '01', obsoletes: ['1', '2'], requires: [] });
  t.same([parsePkginfo('SUNW_PKG_HOLLOW=TRUE\n').hollow, parsePkginfo('SUNW_PKG_THISZONE=true').thisZone], [true, true]);
  t.same(parseDepend('# c\nP SUNWcar\tCore Architecture, (Root)\nI SUNWold\nP  SUNWkvm Core\nP SUNWcar again\nR SUNWx\n'), ['SUNWcar', 'SUNWkvm']);
  t.same(parseInstRelease('OS=Solaris\nVERSION=10\nREV=0\n'), { OS: 'Solaris', VERSION: '10', REV: '0' });
  t.equal(etcReleaseLine('                       Solaris 10 10/09 s10x_u8wos_08a X86\n  Copyright\n'), 'Solaris 10 10/09 s10x_u8wos_08a X86');
  t.same([...parseGzOnly('# gz only\n\nSUNWgzonly\n  SUNWother  \n')], ['SUNWgzonly', 'SUNWother']);
});

// ---- an image, as entries and as a directory tree -------------------------

const ALL = (name: string, extra = '') => `PKG=${name}\nVERSION=11.10.0,REV=2005.01.21.15.53\nSUNW_PKG_ALLZONES=true\n${extra}`;
const image: [string, string][] = [
  ['var/sadm/pkg/SUNWcsr/pkginfo', CSR.toString('latin1')],
  ['var/sadm/pkg/SUNWcsr/install/depend', 'P SUNWcar\tCore Architecture, (Root)\nP SUNWkvm\tCore Architecture, (Kvm)\nP SUNWmissing\tnot installed\nI SUNWold\n'],
  ['var/sadm/pkg/SUNWcar/pkginfo', ALL('SUNWcar')],
  ['var/sadm/pkg/SUNWkvm/pkginfo', ALL('SUNWkvm', 'PATCH_INFO_118367-04=Installed: x From: mum Obsoletes:  Requires:  Incompatibles: \nPATCH_INFO_120000-02=Installed: x\n')],
  ['var/sadm/pkg/SUNWapchr/pkginfo', 'PKG=SUNWapchr\nVERSION=11.10.0,REV=2005.01.21.15.53\nSUNW_PKG_ALLZONES=false\n'],
  ['var/sadm/pkg/SUNWlocal/pkginfo', ALL('SUNWlocal', 'SUNW_PKG_THISZONE=true\n')],
  ['var/sadm/pkg/SUNWgzonly/pkginfo', ALL('SUNWgzonly')],
  ['var/sadm/install/gz-only-packages', '# packages installed in the global zone only\n\nSUNWgzonly\n'],
  ['var/sadm/system/admin/INST_RELEASE', 'OS=Solaris\nVERSION=10\nREV=0\n'],
  ['etc/release', '                       Solaris 10 10/09 s10x_u8wos_08a X86\n           Copyright 2009 Sun Microsystems, Inc.  All Rights Reserved.\n'],
];

const expected = {
  order: ['SUNWcar', 'SUNWkvm', 'SUNWcsr'],
  release: { instRelease: { OS: 'Solaris', VERSION: '10', REV: '0' }, etcRelease: 'Solaris 10 10/09 s10x_u8wos_08a X86' },
};

interface Src {
  entries: Entry[];
  bytes: Map<Entry, Buffer>;
}

/** Entries whose body() may be read once, and only before the next entry is asked for. */
function makeEntries(files: [string, Buffer | string, EntryType?][]): Src {
  const bytes = new Map<Entry, Buffer>();
  const entries = files.map(([p, data, type = 'file'], index): Entry => {
    const buf = type !== 'file' ? Buffer.alloc(0) : Buffer.isBuffer(data) ? data : Buffer.from(data, 'latin1');
    const e: Entry & { expired?: boolean } = {
      path: p, type, linkTarget: type === 'symlink' ? String(data) : undefined, mode: 0o644, uid: 0, gid: 3, mtime: 1263290000, mtimeNsec: 0,
      size: type === 'file' ? buf.length : 0, offset: index * 512, index,
      body() {
        if (e.expired) throw new Error(`${p}: body read after the next entry`);
        e.expired = true;
        // Three uneven chunks, as a parser would hand them out.
        const cuts = [0, Math.floor(buf.length / 3), Math.floor(buf.length / 2), buf.length];
        return (async function* () {
          for (let i = 0; i < 3; i++) if (cuts[i + 1]! > cuts[i]!) yield buf.subarray(cuts[i], cuts[i + 1]);
        })();
      },
    };
    bytes.set(e, buf);
    return e;
  });
  return { entries, bytes };
}

async function* produce(entries: Entry[]): AsyncIterable<Entry> {
  for (const e of entries) {
    yield e;
    (e as Entry & { expired?: boolean }).expired = true;
  }
}

function ctx(): RuleContext {
  return {
    zone: { name: 'z1', ipType: 'shared', net: [], inheritPkgDirs: [], fs: [], datasets: [] },
    identity: 'preserve',
    date: new Date(0),
    report: new Report(),
    removeWritten: async () => 0,
    site: { disableServices: [], removePackages: [] },
  };
}

t.test('inventory rule: bodies pass through intact, inventory gathered', async (t) => {
  const big = 'PKG=SUNWbig\nVERSION=1\nSUNW_PKG_ALLZONES=true\n' + 'X=' + 'y'.repeat(5000) + '\n';
  const src = makeEntries([
    ['./', '', 'dir'],
    ['./var/sadm/pkg/SUNWcsr', '', 'dir'],
    ...image.map(([p, s], i): [string, string] => [i % 3 === 0 ? `./${p}` : i % 3 === 1 ? `/${p}` : p, s]),
    ['usr/bin/ls', Buffer.alloc(70000, 7)],
    ['var/sadm/pkg/SUNWbig/pkginfo', big],
    ['var/sadm/pkg/SUNWlink/pkginfo', 'var/sadm/pkg/SUNWcar/pkginfo', 'symlink'],
    ['var/sadm/pkg/SUNWcsr/install/copyright', 'Copyright 2009 Sun Microsystems'],
  ]);
  const rule = new InventoryRule({ cap: 4096 });
  const c = ctx();
  const out: Entry[] = [];
  for await (const e of rule.apply(produce(src.entries), c)) {
    const chunks: Buffer[] = [];
    for await (const b of e.body()) chunks.push(b);
    const orig = src.entries[out.length]!;
    t.same({ ...e, body: 0, expired: 0 }, { ...orig, body: 0, expired: 0 }, `${e.path}: metadata unchanged`);
    t.ok(Buffer.concat(chunks).equals(src.bytes.get(orig)!), `${e.path}: body intact`);
    out.push(e);
  }
  t.equal(out.length, src.entries.length, 'nothing dropped or added');
  t.equal(out[image.length + 2], src.entries[image.length + 2], 'an unrelated file is the very same entry');
  t.same(c.report.notes, ['inventory: "var/sadm/pkg/SUNWbig/pkginfo" is 5048 bytes, over the 4096 byte limit: not read']);
  const inv = rule.result();
  t.same([...inv.packages.keys()], expected.order, 'ALLZONES only, minus gz-only and THISZONE; dependencies first');
  t.same(inv.release, expected.release);
  t.same([...inv.packages.get('SUNWkvm')!.patches.keys()], ['120000'], '118367 obsoleted by SUNWcsr 118844-30: left out');
  t.same([...inv.packages.get('SUNWcsr')!.patches.keys()], ['118844', '119255', '141445', '119254']);
  t.equal(inv.packages.get('SUNWcsr')!.version, '11.10.0,REV=2005.01.21.16.34');
});

t.test('inventory rule with an archive prefix', async (t) => {
  const src = makeEntries([
    ['web1/root/var/sadm/pkg/SUNWcar/pkginfo', ALL('SUNWcar')],
    ['var/sadm/pkg/SUNWkvm/pkginfo', ALL('SUNWkvm')],
  ]);
  const rule = new InventoryRule({ prefix: 'web1/root' });
  for await (const e of rule.apply(produce(src.entries), ctx())) for await (const _ of e.body());
  t.same([...rule.result().packages.keys()], ['SUNWcar'], 'paths outside the prefix are not the image');
});

t.test('inventoryFromRoot reads the same facts from a tree', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inv-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  for (const [p, s] of image) {
    fs.mkdirSync(path.join(dir, path.dirname(p)), { recursive: true });
    fs.writeFileSync(path.join(dir, p), s, 'latin1');
  }
  fs.mkdirSync(path.join(dir, 'var/sadm/pkg/SUNWempty')); // no pkginfo: not a package
  const fromTree = await inventoryFromRoot(dir);
  const rule = new InventoryRule();
  for await (const e of rule.apply(produce(makeEntries(image).entries), ctx())) for await (const _ of e.body());
  t.same(fromTree, rule.result());
  t.same([...fromTree.packages.keys()], expected.order);
  t.same(await inventoryFromRoot(path.join(dir, 'nothing-here')), { packages: new Map() }, 'no packaging at all');
  fs.writeFileSync(path.join(dir, 'var/sadm/pkg/SUNWcar/pkginfo'), 'X'.repeat(100));
  await t.rejects(inventoryFromRoot(dir, 50), RangeError, 'cap applies');
});

t.test('inventory -> manifest -> inventoryFromManifest', async (t) => {
  const rule = new InventoryRule();
  for await (const e of rule.apply(produce(makeEntries(image).entries), ctx())) for await (const _ of e.body());
  const inv = rule.result();
  const zone = { name: 'z1', zonepath: '/zones/z1', ipType: 'shared' as const, net: [], inheritPkgDirs: [], fs: [], datasets: [] };
  const back = inventoryFromManifest(writeDetachedManifest(zone, inv));
  const strip = (i: typeof inv) => [...i.packages.values()].map((p) => [p.name, p.version, [...p.patches]]);
  t.same(strip(back), strip(inv));
});
