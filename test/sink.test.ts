// FsSink: what it creates for each entry type, with which metadata, and
// how it cleans up (abort, removeWritten). Hostile inputs: sink-hostile.test.ts.

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { ArchiveError } from '../src/errors.js';
import { validatePath } from '../src/sink/path.js';
import { PathRootedFs, ProcFdRootedFs } from '../src/sink/rootfs.js';
import { dir, expectReject, hard, isRoot, mkEntry, mountTmpfs, noMountReason, setupEnv, snapshot, diffTrees, sym, writeAllSpecs } from './sink-lib.js';

const rootOnly = isRoot ? {} : { skip: 'needs root (chown, setuid)' };

const lst = (root: string, rel: string) => fs.lstatSync(Buffer.concat([Buffer.from(root + '/'), Buffer.from(rel, 'latin1')]));
const read = (root: string, rel: string) => fs.readFileSync(Buffer.concat([Buffer.from(root + '/'), Buffer.from(rel, 'latin1')]));

t.test('path validation on bytes', async (t) => {
  const w = { entry: 'x' };
  t.same(validatePath('./usr//bin/./ls', w), { key: 'usr/bin/ls', parent: 'usr/bin', depth: 3, leadingSlash: false, trailingSlash: false });
  t.same(validatePath('///etc/x/', w), { key: 'etc/x', parent: 'etc', depth: 2, leadingSlash: true, trailingSlash: true });
  t.equal(validatePath('.', w).key, '');
  t.equal(validatePath('./', w).key, '');
  t.equal(validatePath('caf\xe9/..x/x..', w).key, 'caf\xe9/..x/x..', 'dots inside names are ordinary');
  t.equal(validatePath('a\\..\\b', w).key, 'a\\..\\b', 'backslash is an ordinary byte');
  for (const bad of ['..', '../x', 'a/../b', 'a/..', 'ok\0/x', 'a'.repeat(256), 'd/'.repeat(2100) + 'f', 'a/'.repeat(1025) + 'f']) {
    t.throws(() => validatePath(bad, w), { name: 'ArchiveError', kind: 'unsafe-path' }, `rejects ${JSON.stringify(bad.slice(0, 20))}`);
  }
  t.equal(validatePath('a'.repeat(255), w).depth, 1, '255-byte component accepted');
  t.equal(validatePath('a/'.repeat(1024) + '/', w).depth, 1024, '1024 levels accepted');
});

t.test('umask is set to 022 by the constructor', async (t) => {
  const env = setupEnv();
  t.teardown(env.cleanup);
  process.umask(0o077);
  env.sink();
  t.equal(process.umask(), 0o022);
});

t.test('regular files: content, mode, owner, mtime with nanoseconds', rootOnly, async (t) => {
  const env = setupEnv();
  t.teardown(env.cleanup);
  const s = env.sink();
  const big = Buffer.alloc(300_000);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
  await writeAllSpecs(s, [
    { path: 'etc/motd', data: 'hello\n', mode: 0o640, uid: 123, gid: 45, mtime: 1_700_000_000, nsec: 123_456_789 },
    { path: 'bin/big', data: big, chunk: 65536, mode: 0o755 },
    { path: 'empty', data: '', mode: 0o600, mtime: 0, nsec: 0 },
    { path: 'old', data: 'x', mtime: -86_400 * 365, nsec: 250_000_000 },
  ]);
  const st = await s.finish();
  const m = fs.lstatSync(path.join(env.root, 'etc/motd'), { bigint: true });
  t.equal(read(env.root, 'etc/motd').toString(), 'hello\n');
  t.equal(Number(m.mode & 0o7777n), 0o640);
  t.equal(Number(m.uid), 123);
  t.equal(Number(m.gid), 45);
  t.equal(m.mtimeNs / 1000n, 1_700_000_000_123_456n, 'mtime kept to the microsecond (Node futimes resolution)');
  t.ok(read(env.root, 'bin/big').equals(big), 'multi-chunk body byte-exact');
  t.equal(lst(env.root, 'empty').size, 0);
  t.equal(lst(env.root, 'empty').mtimeMs, 0);
  t.equal(fs.lstatSync(path.join(env.root, 'old'), { bigint: true }).mtimeNs, -31_536_000_000_000_000n + 250_000_000n, 'pre-1970 time (ms precision)');
  t.equal(lst(env.root, 'etc').mode & 0o7777, 0o755, 'implicit parent 0755');
  t.equal(st.entries, 4);
  t.equal(st.bytes, 6 + big.length + 0 + 1);
});

t.test('setuid, setgid and sticky bits survive chown (fchown before fchmod)', rootOnly, async (t) => {
  const env = setupEnv();
  t.teardown(env.cleanup);
  const s = env.sink();
  await writeAllSpecs(s, [
    { path: 'usr/bin/passwd', mode: 0o4555, uid: 0, gid: 3, data: '#!' },
    { path: 'bin/ping', mode: 0o4755, uid: 100, gid: 3, data: '#!' },
    { path: 'usr/bin/wall', mode: 0o2555, uid: 0, gid: 5, data: '#!' },
    dir('tmp', { mode: 0o1777 }),
    dir('var/mail', { mode: 0o2775, gid: 6, uid: 0 }),
  ]);
  await s.finish();
  const ping = lst(env.root, 'bin/ping');
  t.equal(ping.mode & 0o7777, 0o4755);
  t.equal(ping.uid, 100);
  t.equal(ping.gid, 3);
  t.equal(lst(env.root, 'usr/bin/passwd').mode & 0o7777, 0o4555);
  t.equal(lst(env.root, 'usr/bin/wall').mode & 0o7777, 0o2555);
  t.equal(lst(env.root, 'usr/bin/wall').gid, 5);
  t.equal(lst(env.root, 'tmp').mode & 0o7777, 0o1777);
  t.equal(lst(env.root, 'var/mail').mode & 0o7777, 0o2775);
  t.equal(lst(env.root, 'var/mail').gid, 6);
  t.same(env.warnings, []);
});

t.test('without owners, setuid/setgid naming another owner are dropped with a warning', async (t) => {
  const env = setupEnv();
  t.teardown(env.cleanup);
  const s = env.sink({ owners: false });
  const me = process.getuid?.() ?? 0;
  await writeAllSpecs(s, [
    { path: 'a', mode: 0o4755, uid: me + 1, data: 'x' },
    { path: 'b', mode: 0o1755, uid: me + 1, data: 'x' },
  ]);
  await s.finish();
  t.equal(lst(env.root, 'a').mode & 0o7777, 0o755);
  t.equal(lst(env.root, 'b').mode & 0o7777, 0o1755, 'sticky alone is kept');
  t.equal(lst(env.root, 'a').uid, me, 'owner not applied');
  t.same(env.warnings.map((w) => w.kind), ['setid-dropped']);
});

t.test('directories: created 0700, final metadata at finish, deepest first', rootOnly, async (t) => {
  const env = setupEnv();
  t.teardown(env.cleanup);
  const s = env.sink();
  await writeAllSpecs(s, [
    dir('ro', { mode: 0o555, uid: 7, gid: 8, mtime: 1_500_000_000 }),
    dir('ro/inner', { mode: 0o500, mtime: 1_400_000_000 }),
    { path: 'ro/inner/f', data: 'in a read-only dir', mode: 0o444 },
    { path: 'ro/g', data: 'x' },
    dir('closed', { mode: 0o000 }),
    { path: 'closed/f', data: 'in a mode 0 dir' },
  ]);
  t.equal(lst(env.root, 'ro').mode & 0o7777, 0o700, 'mode 0700 until finish');
  await s.finish();
  t.equal(lst(env.root, 'ro').mode & 0o7777, 0o555);
  t.equal(lst(env.root, 'ro').uid, 7);
  t.equal(lst(env.root, 'ro').gid, 8);
  t.equal(lst(env.root, 'ro').mtimeMs, 1_500_000_000_000, 'dir mtime set after its contents were written');
  t.equal(lst(env.root, 'ro/inner').mode & 0o7777, 0o500);
  t.equal(lst(env.root, 'ro/inner').mtimeMs, 1_400_000_000_000);
  t.equal(read(env.root, 'ro/inner/f').toString(), 'in a read-only dir');
  t.equal(lst(env.root, 'closed').mode & 0o7777, 0);
  t.equal(read(env.root, 'closed/f').toString(), 'in a mode 0 dir');
});

t.test('contents before their directory entry (find -depth order)', async (t) => {
  const env = setupEnv();
  t.teardown(env.cleanup);
  const s = env.sink({ owners: false });
  await writeAllSpecs(s, [{ path: 'a/b/f', data: 'x' }, dir('a/b', { mode: 0o750, mtime: 1_234_567_890 }), dir('a', { mode: 0o711 })]);
  await s.finish();
  t.equal(lst(env.root, 'a/b').mode & 0o7777, 0o750);
  t.equal(lst(env.root, 'a/b').mtimeMs, 1_234_567_890_000);
  t.equal(lst(env.root, 'a').mode & 0o7777, 0o711);
});

t.test('symbolic links: verbatim targets, created last', rootOnly, async (t) => {
  const env = setupEnv();
  t.teardown(env.cleanup);
  const s = env.sink();
  await writeAllSpecs(s, [
    sym('etc/localtime', '/usr/share/zoneinfo/UTC', { uid: 5, gid: 6, mtime: 1_300_000_000 }),
    sym('usr/lib/x', '../../opt/y'),
    sym('up', '../../../..'),
    sym('dangling', 'no/such/thing'),
    sym('latin', 'caf\xe9'),
  ]);
  const ph = lst(env.root, 'etc/localtime');
  t.ok(ph.isFile() && ph.size === 0 && (ph.mode & 0o7777) === 0, 'a mode-0 empty placeholder until finish');
  await s.finish();
  const rl = (p: string) => (fs.readlinkSync(Buffer.from(`${env.root}/${p}`), { encoding: 'buffer' }) as Buffer).toString('latin1');
  t.equal(rl('etc/localtime'), '/usr/share/zoneinfo/UTC');
  t.equal(rl('usr/lib/x'), '../../opt/y');
  t.equal(rl('up'), '../../../..');
  t.equal(rl('dangling'), 'no/such/thing');
  t.equal(rl('latin'), 'caf\xe9', 'non-UTF-8 target byte-exact');
  const l = lst(env.root, 'etc/localtime');
  t.equal(l.uid, 5);
  t.equal(l.gid, 6);
  t.equal(l.mtimeMs, 1_300_000_000_000, 'lutimes');
});

t.test('hard links: to files of this run, and to delayed symlinks', async (t) => {
  const env = setupEnv();
  t.teardown(env.cleanup);
  const s = env.sink({ owners: false });
  await writeAllSpecs(s, [
    { path: 'usr/bin/a', data: 'same inode', mode: 0o755 },
    hard('usr/bin/b', 'usr/bin/a'),
    hard('/sbin/c', '/usr/bin/a'),
    sym('lib/l', 'libc.so.1'),
    hard('lib/l2', 'lib/l'),
    hard('lib/l3', 'lib/l2'),
  ]);
  t.ok(lst(env.root, 'lib/l2').isFile(), 'a hard link to a delayed symlink is delayed too');
  await s.finish();
  const a = lst(env.root, 'usr/bin/a');
  t.equal(lst(env.root, 'usr/bin/b').ino, a.ino);
  t.equal(lst(env.root, 'sbin/c').ino, a.ino);
  t.equal(a.nlink, 3);
  const l = lst(env.root, 'lib/l');
  t.ok(lst(env.root, 'lib/l2').isSymbolicLink());
  t.equal(lst(env.root, 'lib/l2').ino, l.ino, 'Linux: hard link to the symlink itself');
  t.equal(lst(env.root, 'lib/l3').ino, l.ino);
  t.same(env.warnings.map((w) => w.kind), ['leading-slash'], 'leading / reported once');
});

t.test('hard link to a delayed symlink that a later entry replaced', async (t) => {
  const env = setupEnv();
  t.teardown(env.cleanup);
  const s = env.sink({ owners: false });
  await writeAllSpecs(s, [sym('l', 'target'), hard('h', 'l'), { path: 'l', data: 'file wins' }]);
  await s.finish();
  t.equal(read(env.root, 'l').toString(), 'file wins');
  t.equal(fs.readlinkSync(path.join(env.root, 'h')), 'target', 'the link keeps what it linked: a symlink to target');
});

t.test('sparse files keep their holes', async (t) => {
  const env = setupEnv();
  t.teardown(env.cleanup);
  const s = env.sink({ owners: false });
  const size = 8 * 1024 * 1024;
  const a = Buffer.alloc(4096, 0x61);
  const b = Buffer.alloc(10, 0x62);
  await writeAllSpecs(s, [
    { path: 'sparse', size, sparse: [{ offset: 4096, length: 4096 }, { offset: 5_000_000, length: 10 }, { offset: size, length: 0 }], data: Buffer.concat([a, b]), chunk: 1000 },
    { path: 'hole-only', size: 1_000_000, sparse: [], data: '' },
  ]);
  await s.finish();
  const st = lst(env.root, 'sparse');
  t.equal(st.size, size);
  t.ok(st.blocks * 512 < 1024 * 1024, `allocated ${st.blocks * 512} bytes for a ${size}-byte file`);
  const got = read(env.root, 'sparse');
  t.ok(got.subarray(4096, 8192).equals(a));
  t.ok(got.subarray(5_000_000, 5_000_010).equals(b));
  t.equal(got.subarray(0, 4096).every((x) => x === 0), true);
  t.equal(got.subarray(8192, 5_000_000).every((x) => x === 0), true);
  t.equal(lst(env.root, 'hole-only').size, 1_000_000);
  t.equal(lst(env.root, 'hole-only').blocks, 0);
});

t.test('non-UTF-8 names are byte-exact and distinct', async (t) => {
  const env = setupEnv();
  t.teardown(env.cleanup);
  const s = env.sink({ owners: false });
  await writeAllSpecs(s, [
    { path: 'caf\xe9', data: 'e-acute' },
    { path: 'caf\xe8', data: 'e-grave' },
    dir('r\xe9p'),
    { path: 'r\xe9p/f\xff\xfe', data: 'deep' },
    { path: 'r\xe9p/fifo\xe9', type: 'fifo', mode: 0o640 },
    sym('r\xe9p/l\xe9', 'caf\xe9'),
  ]);
  await s.finish();
  const names = (fs.readdirSync(env.root, { encoding: 'buffer' }) as Buffer[]).map((b) => b.toString('hex')).sort();
  t.same(names, [Buffer.from('caf\xe8', 'latin1'), Buffer.from('caf\xe9', 'latin1'), Buffer.from('r\xe9p', 'latin1')].map((b) => b.toString('hex')).sort());
  t.equal(read(env.root, 'caf\xe9').toString(), 'e-acute');
  t.equal(read(env.root, 'caf\xe8').toString(), 'e-grave');
  t.equal(read(env.root, 'r\xe9p/f\xff\xfe').toString(), 'deep');
  t.ok(lst(env.root, 'r\xe9p/fifo\xe9').isFIFO(), 'FIFO under a non-UTF-8 name (temporary name, then rename)');
  t.equal(lst(env.root, 'r\xe9p/fifo\xe9').mode & 0o7777, 0o640);
  t.same(fs.readdirSync(env.root).filter((n) => n.startsWith('.zonep2v')), [], 'no temporary left');
  t.ok(lst(env.root, 'r\xe9p/l\xe9').isSymbolicLink());
});

t.test('FIFOs are created; devices and sockets are skipped with a warning', async (t) => {
  const env = setupEnv();
  t.teardown(env.cleanup);
  const s = env.sink({ owners: isRoot });
  await writeAllSpecs(s, [
    { path: 'etc/saf/_cmdpipe', type: 'fifo', mode: 0o600, uid: 0, gid: 3, mtime: 1_100_000_000 },
    { path: 'etc/mem', type: 'char', devMajor: 1, devMinor: 1, mode: 0o666 },
    { path: 'dev/dsk/c0t0d0s0', type: 'block', devMajor: 32, devMinor: 0 },
    { path: 'var/run/sock', type: 'socket' },
  ]);
  const st = await s.finish();
  const f = lst(env.root, 'etc/saf/_cmdpipe');
  t.ok(f.isFIFO());
  t.equal(f.mode & 0o7777, 0o600);
  if (isRoot) t.equal(f.gid, 3);
  t.equal(f.mtimeMs, 1_100_000_000_000);
  t.notOk(fs.existsSync(path.join(env.root, 'etc/mem')));
  t.notOk(fs.existsSync(path.join(env.root, 'dev')), 'no parent created for a skipped entry');
  t.notOk(fs.existsSync(path.join(env.root, 'var/run/sock')));
  t.same(st.skipped, { 'device-node': 2, socket: 1 });
  t.equal(st.entries, 1);
  t.same(env.warnings.map((w) => w.kind), ['device-skipped', 'device-skipped', 'socket-skipped']);
  t.equal(env.warnings[0]!.entry, 'etc/mem');
  t.ok(typeof env.warnings[0]!.offset === 'number');
});

t.test('duplicates: the later entry replaces the earlier', async (t) => {
  const env = setupEnv();
  t.teardown(env.cleanup);
  const s = env.sink({ owners: false });
  await writeAllSpecs(s, [{ path: 'f', data: 'first' }]);
  // Another name for the first inode: a rewrite must not reach it.
  fs.linkSync(path.join(env.root, 'f'), path.join(env.base, 'held'));
  await writeAllSpecs(s, [
    { path: 'f', data: 'second' },
    { path: 'x', data: 'file' },
    dir('x', { mode: 0o750 }),
    { path: 'x/y', data: 'inside' },
    dir('e'),
    { path: 'e', data: 'file over empty dir' },
    dir('d', { mode: 0o700 }),
    dir('d', { mode: 0o751, mtime: 1_200_000_000 }),
    { path: 'd/keep', data: 'k' },
    sym('s', 'target1'),
    { path: 's', data: 'file over symlink' },
    { path: 't', data: 'file' },
    sym('t', 'target2'),
    sym('u', 'a'),
    sym('u', 'b'),
  ]);
  t.equal(fs.readFileSync(path.join(env.base, 'held'), 'utf8'), 'first', 'the old inode is untouched (unlink + new file, never O_TRUNC)');
  t.equal(lst(env.root, 'f').nlink, 1);
  await s.finish();
  t.equal(read(env.root, 'f').toString(), 'second');
  t.equal(read(env.root, 'x/y').toString(), 'inside');
  t.equal(lst(env.root, 'x').mode & 0o7777, 0o750);
  t.equal(read(env.root, 'e').toString(), 'file over empty dir');
  t.equal(lst(env.root, 'd').mode & 0o7777, 0o751, 'dir over dir: metadata of the later entry');
  t.equal(lst(env.root, 'd').mtimeMs, 1_200_000_000_000);
  t.equal(read(env.root, 'd/keep').toString(), 'k');
  t.equal(read(env.root, 's').toString(), 'file over symlink');
  t.equal(fs.readlinkSync(path.join(env.root, 't')), 'target2');
  t.equal(fs.readlinkSync(path.join(env.root, 'u')), 'b');
  await t.test('a file over a non-empty directory is refused', async (t) => {
    const env2 = setupEnv();
    t.teardown(env2.cleanup);
    const s2 = env2.sink({ owners: false });
    await writeAllSpecs(s2, [{ path: 'd/f', data: 'x' }]);
    await expectReject(t, s2, { path: 'd', data: 'y' }, 'not-empty');
    await expectReject(t, s2, sym('d', '/etc'), 'not-empty');
    t.equal(read(env2.root, 'd/f').toString(), 'x');
  });
});

t.test('root entries update nothing (D-9)', async (t) => {
  const env = setupEnv();
  t.teardown(env.cleanup);
  fs.chmodSync(env.root, 0o755);
  const before = fs.lstatSync(env.root);
  const s = env.sink();
  await writeAllSpecs(s, [dir('./', { mode: 0o777, uid: 1000, gid: 1000, mtime: 1 }), dir('.', { mode: 0o700 }), dir('/', { mode: 0o1777 }), { path: 'f', data: 'x' }]);
  await s.finish();
  const after = fs.lstatSync(env.root);
  t.equal(after.mode, before.mode);
  t.equal(after.uid, before.uid);
  t.equal(after.gid, before.gid);
  t.not(after.mtimeMs, 1000);
});

t.test('leading slashes stripped and reported once', async (t) => {
  const env = setupEnv();
  t.teardown(env.cleanup);
  const s = env.sink({ owners: false });
  await writeAllSpecs(s, [{ path: '/abs/x', data: '1' }, { path: '////abs/y', data: '2' }, { path: '//abs/z', data: '3' }]);
  await s.finish();
  t.equal(read(env.root, 'abs/x').toString(), '1');
  t.equal(read(env.root, 'abs/y').toString(), '2');
  t.equal(read(env.root, 'abs/z').toString(), '3');
  t.same(env.warnings.map((w) => [w.kind, w.entry]), [['leading-slash', '/abs/x']]);
});

t.test('caps: byte cap and free-space reserve', async (t) => {
  const env = setupEnv();
  t.teardown(env.cleanup);
  const s = env.sink({ owners: false, caps: { maxBytes: 10 } });
  await writeAllSpecs(s, [{ path: 'a', data: '12345' }]);
  await expectReject(t, s, { path: 'b', data: '123456' }, 'cap-bytes');
  t.notOk(fs.existsSync(path.join(env.root, 'b')), 'nothing created past the cap');
  const avail = fs.statfsSync(env.root);
  const free = avail.bavail * avail.bsize;
  t.throws(() => env.sink({ caps: { expectedBytes: free * 2 } }), { name: 'ArchiveError', kind: 'no-space' }, 'declared size checked up front');
  const err = (() => {
    try {
      env.sink({ caps: { reserveBytes: free * 2 } });
    } catch (e) {
      return e as ArchiveError;
    }
    return undefined;
  })();
  t.match(err?.message ?? '', /^the file system is below the reserve of \d+ bytes kept free; \d+ bytes are available/, 'at the start: the reserve and the available figure (not "needs 0 bytes")');
  // The remedy must be one the user can act on: no option lowers the reserve.
  t.match(err?.hint ?? '', /^free at least \d+ bytes on the zonepath file system; the reserve stays free/, 'remedy: how much to free');
  t.notMatch(err?.hint ?? '', /lower the reserve$/);
  const s3 = env.sink({ owners: false, caps: { reserveBytes: free - 1024 * 1024, checkEveryBytes: 1 } });
  await expectReject(t, s3, { path: 'big', data: Buffer.alloc(4 * 1024 * 1024) }, 'no-space');
});

t.test('caps: bytes of symbolic-link targets held until finish (F7)', async (t) => {
  const env = setupEnv();
  t.teardown(env.cleanup);
  const s = env.sink({ owners: false, caps: { maxLinkTargetBytes: 1000 } });
  await writeAllSpecs(s, Array.from({ length: 4 }, (_, i) => ({ path: `l${i}`, type: 'symlink' as const, linkTarget: 'x'.repeat(250) })));
  await expectReject(t, s, { path: 'l4', type: 'symlink', linkTarget: 'y' }, 'cap-links');
  t.notOk(fs.existsSync(path.join(env.root, 'l4')), 'no placeholder past the cap');
});

t.test('a full file system (ENOSPC) is an ArchiveError naming the entry', { skip: noMountReason || false }, async (t) => {
  const env = setupEnv();
  t.teardown(env.cleanup);
  const mnt = path.join(env.root, 'small');
  fs.mkdirSync(mnt);
  const um = mountTmpfs(mnt, '256k');
  if (typeof um === 'string') throw new Error(um);
  const s = env.sink({ owners: false });
  await expectReject(t, s, { path: 'small/big', data: Buffer.alloc(1024 * 1024), chunk: 65536 }, 'no-space');
  const left = await s.abort();
  t.same(left, [`"${env.root}/small/big"`], 'the partial file on the other file system is reported, not removed');
});

t.test('removeWritten removes what this run wrote below a path', async (t) => {
  const env = setupEnv((root) => {
    fs.mkdirSync(path.join(root, 'export/home'), { recursive: true });
    fs.writeFileSync(path.join(root, 'export/home/keep'), 'pre-existing');
  });
  t.teardown(env.cleanup);
  const s = env.sink({ owners: false });
  await writeAllSpecs(s, [
    dir('export/home/zones', { mode: 0o700 }),
    dir('export/home/zones/z1/root/etc'),
    { path: 'export/home/zones/z1/root/etc/passwd', data: 'x' },
    sym('export/home/zones/z1/link', '/'),
    { path: 'export/home/new', data: 'y' },
    { path: 'other', data: 'z' },
  ]);
  const n = await s.removeWritten('/export/home/zones');
  t.equal(n, 6, 'zones, z1, root, etc, passwd, link');
  t.notOk(fs.existsSync(path.join(env.root, 'export/home/zones')));
  t.equal(await s.removeWritten('export/home'), 1, 'only "new": the pre-existing dirs and file stay');
  await s.finish();
  t.equal(fs.readFileSync(path.join(env.root, 'export/home/keep'), 'utf8'), 'pre-existing');
  t.notOk(fs.existsSync(path.join(env.root, 'export/home/new')));
  t.equal(read(env.root, 'other').toString(), 'z');
  t.same(env.outside(), []);
  await t.rejects(s.removeWritten('../x'), { name: 'ArchiveError', kind: 'unsafe-path' });
});

t.test('abort removes what this run created and restores the root', async (t) => {
  const env = setupEnv((root) => {
    fs.mkdirSync(path.join(root, 'etc'));
    fs.writeFileSync(path.join(root, 'etc/pre'), 'pre-existing');
    fs.symlinkSync('/nowhere', path.join(root, 'prelink'));
    fs.utimesSync(path.join(root, 'etc'), 1_000_000, 1_000_000);
  });
  t.teardown(env.cleanup);
  const before = snapshot(env.root);
  const rootBefore = fs.lstatSync(env.root);
  const s = env.sink({ owners: isRoot });
  await writeAllSpecs(s, [
    dir('etc', { mode: 0o777 }),
    { path: 'etc/new', data: 'x' },
    dir('usr/lib', { mode: 0o555 }),
    { path: 'usr/lib/libc.so.1', data: 'elf' },
    hard('usr/lib/libc.so', 'usr/lib/libc.so.1'),
    sym('usr/lib/l', 'libc.so.1'),
    hard('usr/lib/l2', 'usr/lib/l'),
    { path: 'usr/lib/fifo', type: 'fifo' },
    { path: 'caf\xe9/x\xff', data: 'latin' },
  ]);
  // A failed entry in the middle: its partial file goes too.
  const failing = mkEntry({ path: 'usr/partial', size: 100, data: '' });
  failing.body = () => ({
    async *[Symbol.asyncIterator]() {
      yield Buffer.alloc(50);
      throw new ArchiveError('truncated', 'archive ends early');
    },
  });
  await t.rejects(s.write(failing), { name: 'ArchiveError', kind: 'truncated' });
  t.ok(fs.existsSync(path.join(env.root, 'usr/partial')));
  const left = await s.abort();
  t.same(left, []);
  t.same(diffTrees(before, snapshot(env.root)), [], 'root back to its prior state (incl. etc mtime)');
  t.equal(Math.floor(fs.lstatSync(env.root).mtimeMs), Math.floor(rootBefore.mtimeMs), 'root mtime restored');
  t.same(env.outside(), []);
  await t.rejects(s.write(mkEntry({ path: 'late', data: 'x' })), /after abort/);
});

t.test('abort after finish removes the links and restored dirs too', rootOnly, async (t) => {
  const env = setupEnv();
  t.teardown(env.cleanup);
  const s = env.sink({ owners: false });
  await writeAllSpecs(s, [dir('a', { mode: 0o500 }), sym('a/l', '/'), { path: 'a/f', data: 'x' }, hard('a/h', 'a/l')]);
  await s.finish();
  t.same(await s.abort(), []);
  t.same(fs.readdirSync(env.root), []);
});

t.test('abort and removeWritten never cross a mount point', { skip: noMountReason || false }, async (t) => {
  const env = setupEnv((root) => {
    fs.mkdirSync(path.join(root, 'mnt'));
  });
  t.teardown(env.cleanup);
  const mnt = path.join(env.root, 'mnt');
  const um = mountTmpfs(mnt);
  if (typeof um === 'string') throw new Error(um);
  fs.writeFileSync(path.join(mnt, 'global-data'), 'must survive');
  const s = env.sink({ owners: false });
  await writeAllSpecs(s, [
    { path: 'mnt/from-archive', data: 'x' },
    dir('mnt/sub'),
    { path: 'mnt/sub/f', data: 'y' },
    dir('made'),
    { path: 'made/f', data: 'z' },
  ]);
  // Mount over a directory this run created: its hidden contents must not be touched either.
  const um2 = mountTmpfs(path.join(env.root, 'made'));
  if (typeof um2 === 'string') throw new Error(um2);
  fs.writeFileSync(path.join(env.root, 'made/f'), 'other fs, same name');
  t.equal(await s.removeWritten('mnt/sub'), 0, 'nothing removed on another file system');
  t.ok(env.warnings.some((w) => w.kind === 'not-removed'));
  const left = await s.abort();
  t.same(
    left.sort(),
    ['made', 'made/f', 'mnt/from-archive', 'mnt/sub', 'mnt/sub/f'].map((p) => `"${env.root}/${p}"`).sort(),
    'everything on the mounted file systems is reported, not removed',
  );
  t.equal(fs.readFileSync(path.join(mnt, 'global-data'), 'utf8'), 'must survive');
  t.equal(fs.readFileSync(path.join(env.root, 'made/f'), 'utf8'), 'other fs, same name');
  um2();
  t.equal(fs.readFileSync(path.join(env.root, 'made/f'), 'utf8'), 'z', 'hidden file left for the installer, who unmounts first');
  um();
  t.same(fs.readdirSync(mnt), [], 'under the mount point: nothing');
});

t.test('lenient turns non-escape rejections into warnings', async (t) => {
  const env = setupEnv();
  t.teardown(env.cleanup);
  const s = env.sink({ owners: false, lenient: true });
  await writeAllSpecs(s, [{ path: 'f', data: 'x' }, { path: 'f/g', data: 'y' }, { path: 'ok', data: 'z' }]);
  const st = await s.finish();
  t.same(st.skipped, { 'parent-not-dir': 1 });
  t.equal(env.warnings[0]?.kind, 'parent-not-dir');
  t.equal(read(env.root, 'ok').toString(), 'z');
  const env2 = setupEnv();
  t.teardown(env2.cleanup);
  const s2 = env2.sink({ lenient: true });
  await expectReject(t, s2, { path: '../x', data: 'x' }, 'unsafe-path');
  await writeAllSpecs(s2, [sym('l', '/')]);
  await expectReject(t, s2, { path: 'l/x', data: 'x' }, 'through-symlink');
});

t.test('body length mismatches are errors', async (t) => {
  const env = setupEnv();
  t.teardown(env.cleanup);
  const s = env.sink({ owners: false });
  await expectReject(t, s, { path: 'short', size: 10, data: 'abc' }, 'body-size');
  await expectReject(t, s, { path: 'long', size: 2, data: 'abc' }, 'body-size');
  await expectReject(t, s, { path: 'sp', size: 100, sparse: [{ offset: 50, length: 10 }, { offset: 40, length: 5 }], data: 'x'.repeat(15) }, 'bad-sparse');
  await expectReject(t, s, { path: 'sp2', size: 10, sparse: [{ offset: 5, length: 10 }], data: 'x'.repeat(10) }, 'bad-sparse');
});

t.test('both backends (path, proc-anchored) build the same tree', { skip: ProcFdRootedFs.supported() ? false : 'needs Linux /proc/self/fd' }, async (t) => {
  const specs = [
    dir('etc', { mode: 0o755, mtime: 1_000 }),
    { path: 'etc/passwd', data: 'root:x:0:0\n', mode: 0o644, mtime: 2_000 },
    sym('etc/localtime', '/usr/share/zoneinfo/UTC', { mtime: 3_000 }),
    hard('etc/passwd.hl', 'etc/passwd'),
    { path: 'r\xe9p/fifo\xe9', type: 'fifo' as const, mode: 0o640, mtime: 4_000 },
    { path: 'deep/' + 'x/'.repeat(40) + 'f', data: 'deep', mtime: 5_000 },
    { path: 'sp', size: 100_000, sparse: [{ offset: 50_000, length: 3 }], data: 'abc', mtime: 6_000 },
    dir('ro', { mode: 0o555, mtime: 7_000 }),
    { path: 'ro/f', data: 'x', mtime: 8_000 },
    { path: 'caf\xe9', data: 'latin1', mtime: 9_000 },
  ];
  const trees = [];
  for (const anchor of ['path', 'proc'] as const) {
    const env = setupEnv();
    t.teardown(env.cleanup);
    const s = env.sink({ owners: false, anchor });
    await writeAllSpecs(s, specs);
    await s.finish();
    trees.push(snapshot(env.root));
  }
  t.same(diffTrees(trees[0]!, trees[1]!, { ignoreDirMtime: true }), [], 'same tree (implicit directories have the time of the run)');
  for (const k of ['etc', 'ro']) t.equal(trees[0]!.get(k)!.mtime, trees[1]!.get(k)!.mtime, `${k} mtime`);
  t.ok(trees[0]!.size > 10);
});

t.test('proc backend: directory fds stay bounded and are released', { skip: ProcFdRootedFs.supported() ? false : 'needs Linux /proc/self/fd' }, async (t) => {
  const env = setupEnv();
  t.teardown(env.cleanup);
  const open = () => fs.readdirSync('/proc/self/fd').length;
  const before = open();
  let peak = 0;
  const s = env.sink({ owners: false, backend: (r) => new ProcFdRootedFs(r, { maxFds: 4 }) });
  for (let i = 0; i < 30; i++) {
    await writeAllSpecs(s, [{ path: `d${i}/` + 'sub/'.repeat(20) + `f${i}`, data: String(i) }]);
    peak = Math.max(peak, open() - before);
  }
  t.ok(peak <= 6, `at most maxFds + root + one transient open (peak ${peak})`);
  await s.finish();
  t.equal(open(), before, 'all fds released at finish');
  t.equal(read(env.root, 'd29/' + 'sub/'.repeat(20) + 'f29').toString(), '29');
  t.same(await s.abort(), []);
  t.equal(open(), before, 'and after abort');
  t.same(fs.readdirSync(env.root), []);
});

t.test('a FIFO that cannot be made is an ArchiveError naming the entry', async (t) => {
  const env = setupEnv();
  t.teardown(env.cleanup);
  const s = env.sink({ owners: false, backend: (r) => new PathRootedFs(r, { mkfifo: '/nonexistent/mkfifo' }) });
  const err = await expectReject(t, s, { path: 'etc/saf/_cmdpipe', type: 'fifo' }, 'io-error');
  t.match(err?.message ?? '', /ENOENT/);
  await expectReject(t, s, { path: 'neg', size: -1, data: '' }, 'bad-size');
  t.same(await s.abort(), []);
  t.same(fs.readdirSync(env.root), []);
});

t.test('extended attributes are not applied, reported once', async (t) => {
  const env = setupEnv();
  t.teardown(env.cleanup);
  const s = env.sink({ owners: false });
  for (const p of ['a', 'b']) {
    const e = mkEntry({ path: p, data: 'x' });
    e.xattrs = { 'SCHILY.xattr.security.capability': Buffer.from([1, 2, 3]) };
    await s.write(e);
  }
  await s.finish();
  t.same(env.warnings.map((w) => [w.kind, w.entry]), [['xattrs-ignored', 'a']]);
});
