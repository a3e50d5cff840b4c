import t from 'tap';
import { normPath, isAtOrUnder, relPath, dirName } from '../src/rules/path.js';
import { solarisDate, toLines, fromLines, fields } from '../src/rules/text.js';
import { ent } from './rules-lib.js';

t.test('normPath strips leading / and ./, collapses //, drops . components', async (t) => {
  const cases: [string, string][] = [
    ['etc/vfstab', 'etc/vfstab'],
    ['./etc/vfstab', 'etc/vfstab'],
    ['/etc/vfstab', 'etc/vfstab'],
    ['././/etc//vfstab', 'etc/vfstab'],
    ['etc/./zones/', 'etc/zones'],
    ['.profile', '.profile'],
    ['./.profile', '.profile'],
    ['etc/.UNCONFIGURED', 'etc/.UNCONFIGURED'],
    ['.', ''],
    ['./', ''],
    ['/', ''],
    ['a/../b', 'a/../b'],
    ['..', '..'],
    ['./..', '..'],
    ['.../x', '.../x'],
    ['usr/lib/', 'usr/lib'],
    ['usr/lib/.', 'usr/lib'],
    ['caf\xe9/x', 'caf\xe9/x'],
  ];
  for (const [i, o] of cases) t.equal(normPath(i), o, JSON.stringify(i));
});

t.test('relPath caches per entry object and follows a changed path', async (t) => {
  const e = ent('./etc/zones/index', 'file', 'x');
  t.equal(relPath(e), 'etc/zones/index');
  t.equal(relPath(e), 'etc/zones/index');
  e.path = '/etc//vfstab';
  t.equal(relPath(e), 'etc/vfstab');
});

t.test('isAtOrUnder respects component boundaries', async (t) => {
  t.ok(isAtOrUnder('zones/a', 'zones/a'));
  t.ok(isAtOrUnder('zones/a/root/etc', 'zones/a'));
  t.notOk(isAtOrUnder('zones/ab', 'zones/a'));
  t.notOk(isAtOrUnder('zones/ab/root', 'zones/a'));
  t.notOk(isAtOrUnder('zones', 'zones/a'));
  t.equal(dirName('a/b/c'), 'a/b');
  t.equal(dirName('a'), '');
});

t.test('solarisDate matches date(1) default output, day padded with a space', async (t) => {
  t.equal(solarisDate(new Date(Date.UTC(2009, 2, 10, 14, 5, 9))), 'Tue Mar 10 14:05:09 UTC 2009');
  t.equal(solarisDate(new Date(Date.UTC(2010, 10, 7, 3, 4, 5))), 'Sun Nov  7 03:04:05 UTC 2010');
});

t.test('lines and fields as awk sees them', async (t) => {
  t.same(toLines(Buffer.from('a\nb\n')), ['a', 'b']);
  t.same(toLines(Buffer.from('a\nb')), ['a', 'b']);
  t.same(toLines(Buffer.from('\n')), ['']);
  t.same(toLines(Buffer.alloc(0)), []);
  t.equal(fromLines(['a', 'b']).toString(), 'a\nb\n');
  t.same(fields('  /dev/dsk/c0t0d0s1\t-  -\tswap '), ['/dev/dsk/c0t0d0s1', '-', '-', 'swap']);
  t.same(fields(' \t '), []);
});
