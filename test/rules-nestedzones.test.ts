import t from 'tap';
import { nestedZones, nestedZonesRule, parseIndex, splitIndexLine } from '../src/rules/nestedzones.js';
import { toLines } from '../src/rules/text.js';
import { byPath, collect, ent, file, fixture, from, makeCtx, paths } from './rules-lib.js';
import type { Entry } from '../src/entry.js';

const INDEX = fixture('zones-index');
const EXPECTED = fixture('zones-index.expected').toString('latin1');
const XML = fixture('web1.xml');

/** The image's tree around the zones (no index, no xml). */
function zoneTree(): Entry[] {
  return [
    ent('./export'),
    ent('./export/home'),
    file('./export/home/alice/.profile', 'PATH=/usr/bin\n'),
    ent('./export/zones'),
    ent('./export/zones/db1', 'dir', undefined, { mode: 0o700 }),
    ent('./export/zones/db1/root'),
    file('./export/zones/db1/root/etc/vfstab', '#\n'),
    ent('./export/zones/db10'),
    file('./export/zones/db10/backup.tar', 'data'),
    ent('./zones'),
    ent('./zones/web1', 'dir', undefined, { mode: 0o700 }),
    ent('./zones/web1/root'),
    ent('./zones/web1/root/etc'),
    file('./zones/web1/root/etc/passwd', 'root:x:0:0::/:/sbin/sh\n'),
    ent('./zones/web1/root/etc/hosts', 'symlink', undefined, { linkTarget: './inet/hosts' }),
    ent('./zones/web10'),
    file('./zones/web10/index.html', '<html/>'),
    file('./zones/web1.notes', 'not a zone'),
    ent('./zones/test', 'dir', undefined, { mode: 0o700 }),
    file('./zones/test/root/partial', ''),
    ent('./zones/new1'),
    file('./zones/new1/leftover', 'configured zone: its zonepath goes too'),
  ];
}

const KEPT = [
  './export',
  './export/home',
  './export/home/alice/.profile',
  './export/zones',
  './export/zones/db10',
  './export/zones/db10/backup.tar',
  './zones',
  './zones/web10',
  './zones/web10/index.html',
  './zones/web1.notes',
];

const indexEntries = () => [ent('./etc'), ent('./etc/zones'), file('./etc/zones/index', INDEX), file('./etc/zones/web1.xml', XML), file('./etc/zones/SUNWdefault.xml', '<zone/>'), file('./etc/zones/db1.xml', '<zone/>')];

t.test('index parsing: comments, global, escaped colons', async (t) => {
  t.same(splitIndexLine('z:installed:/zones/a\\:b:uuid'), ['z', 'installed', '/zones/a:b', 'uuid']);
  const { zones, keep } = parseIndex(toLines(INDEX));
  t.same(zones.map((z) => [z.name, z.state, z.zonepath]), [
    ['web1', 'installed', '/zones/web1'],
    ['db1', 'installed', '/export/zones/db1'],
    ['test', 'incomplete', '/zones/test'],
    ['new1', 'configured', '/zones/new1'],
  ]);
  t.equal(keep.join('\n') + '\n', EXPECTED);
});

t.test('index BEFORE the zone roots: subtrees dropped while streaming, no removeWritten', async (t) => {
  const ctx = makeCtx();
  const out = await collect(nestedZonesRule.apply(from([...indexEntries(), ...zoneTree()]), ctx));
  t.same(paths(out), ['./etc', './etc/zones', './etc/zones/index', './etc/zones/SUNWdefault.xml', ...KEPT]);
  t.equal(byPath(out, './etc/zones/index')!.text, EXPECTED, 'index keeps comments and the global line');
  t.same(ctx.removed, []);
  t.equal(ctx.report.dropped['nested zone'], 12);
  const text = ctx.report.toText();
  t.match(text, 'nested-zones: etc/zones/index: removed zone (web1 (installed) at /zones/web1: zonepath deleted)');
  t.match(text, 'removed zone (db1 (installed) at /export/zones/db1: zonepath deleted)');
  t.match(text, 'removed zone (test (incomplete) at /zones/test: zonepath deleted)');
  t.match(text, 'removed zone (new1 (configured) at /zones/new1: zonepath deleted)');
  t.match(text, 'nested-zones: etc/zones/web1.xml: deleted');
  t.match(text, 'note: The following zones in this image will be unusable and were removed: web1 db1 test new1');
});

t.test('index AFTER the zone roots: removeWritten for the zonepaths and xml that passed', async (t) => {
  const ctx = makeCtx();
  // web1's xml comes before the index, db1's after; zone test has entries before the index only.
  const tree = zoneTree();
  const input = [ent('./etc'), ent('./etc/zones'), file('./etc/zones/web1.xml', XML), ...tree, file('./etc/zones/index', INDEX), file('./etc/zones/db1.xml', '<zone/>'), file('./zones/web1/root/late', 'x')];
  const out = await collect(nestedZonesRule.apply(from(input), ctx));
  t.same(paths(out), ['./etc', './etc/zones', './etc/zones/web1.xml', ...tree.map((e) => e.path), './etc/zones/index']);
  t.same(ctx.removed, ['zones/web1', 'export/zones/db1', 'zones/test', 'zones/new1', 'etc/zones/web1.xml']);
  t.equal(ctx.report.dropped['nested zone'], 1, 'the late entry is still dropped');
  t.match(ctx.report.toText(), 'nested-zones: zones/web1: deleted (zonepath written before the index was seen (1 paths removed))');
});

t.test('zonepaths with no entries before the index are not removed; prefix siblings never', async (t) => {
  const ctx = makeCtx();
  const input = [file('./zones/web10/index.html', 'x'), file('./export/zones/db10/f', 'y'), file('./etc/zones/index', INDEX)];
  await collect(nestedZonesRule.apply(from(input), ctx));
  t.same(ctx.removed, []);
});

t.test('zonepaths that would remove the image itself are refused', async (t) => {
  const ctx = makeCtx();
  const idx = 'global:installed:/\nbad1:installed:/\nbad2:installed:/usr\nbad3:installed:zones/rel\nok:installed:/zones//ok/\n';
  const input = [file('etc/zones/index', idx), file('usr/bin/ls', 'x'), ent('zones/ok'), file('zones/ok/root/x', 'y'), ent('zones/rel')];
  const out = await collect(nestedZonesRule.apply(from(input), ctx));
  t.same(paths(out), ['etc/zones/index', 'usr/bin/ls', 'zones/rel']);
  t.equal(byPath(out, 'etc/zones/index')!.text, 'global:installed:/\n');
  const text = ctx.report.toText();
  t.match(text, 'bad1 (installed) at /: zonepath kept, zonepath is the root');
  t.match(text, 'bad2 (installed) at /usr: zonepath kept, zonepath is a system directory');
  t.match(text, 'bad3 (installed) at zones/rel: zonepath kept, zonepath is not absolute');
});

t.test('an index with only the global zone is passed unchanged', async (t) => {
  const ctx = makeCtx();
  const out = await collect(nestedZonesRule.apply(from([file('etc/zones/index', '# c\nglobal:installed:/\n'), ent('zones/a')]), ctx));
  t.same(paths(out), ['etc/zones/index', 'zones/a']);
  t.equal(out[0]!.text, '# c\nglobal:installed:/\n');
  t.same(ctx.report.changes, []);
});

t.test('hard links into a removed zonepath are dropped; a symlinked index is reported and left', async (t) => {
  let ctx = makeCtx();
  const out = await collect(
    nestedZonesRule.apply(from([file('etc/zones/index', 'web1:installed:/zones/web1\n'), ent('zones/web1/root/x', 'file', 'x'), ent('etc/x', 'hardlink', undefined, { linkTarget: './zones/web1/root/x' }), ent('etc/y', 'hardlink', undefined, { linkTarget: 'etc/passwd' })]), ctx),
  );
  t.same(paths(out), ['etc/zones/index', 'etc/y']);
  t.equal(ctx.report.dropped['hard link into a nested zone'], 1);
  ctx = makeCtx();
  const out2 = await collect(nestedZonesRule.apply(from([ent('etc/zones/index', 'symlink', undefined, { linkTarget: '/x' }), ent('zones/web1')]), ctx));
  t.same(paths(out2), ['etc/zones/index', 'zones/web1']);
  t.match(ctx.report.toText(), "Invalid '/etc/zones/index' file within the zone (symlink)");
});

t.test('over the cap of remembered directories: every removed zonepath is cleaned with removeWritten', async (t) => {
  const ctx = makeCtx();
  const input = [ent('a'), ent('b'), ent('c'), file('etc/zones/index', INDEX)];
  await collect(nestedZones(2).apply(from(input), ctx));
  t.same(ctx.removed, ['zones/web1', 'export/zones/db1', 'zones/test', 'zones/new1']);
});
