import t from 'tap';
import { vfstabRule, vfstabKeep } from '../src/rules/vfstab.js';
import { dfstabRule } from '../src/rules/dfstab.js';
import { byPath, collect, ent, file, fixture, from, makeCtx, paths } from './rules-lib.js';

const VFSTAB = fixture('vfstab');
const VFSTAB_EXPECTED = fixture('vfstab.expected').toString('latin1');
const DFSTAB = fixture('dfstab');
const DFSTAB_EXPECTED = fixture('dfstab.expected').toString('latin1');

t.test('vfstab golden: ufs, svm, swap devices and /devices commented out; fd, /proc, swap /tmp, ctfs, objfs, sharefs, nfs, lofs kept', async (t) => {
  const ctx = makeCtx();
  const input = [ent('./etc'), file('./etc/vfstab', VFSTAB, { uid: 2, gid: 2, mode: 0o664 }), file('./etc/passwd', 'x')];
  const out = await collect(vfstabRule.apply(from(input), ctx));
  t.same(paths(out), ['./etc', './etc/vfstab', './etc/passwd', 'etc/vfstab.pre_p2v']);
  const v = byPath(out, './etc/vfstab')!;
  t.equal(v.text, VFSTAB_EXPECTED);
  t.same([v.uid, v.gid, v.mode], [0, 3, 0o644], 'root:sys 0644');
  const b = byPath(out, 'etc/vfstab.pre_p2v')!;
  t.equal(b.text, VFSTAB.toString('latin1'), 'backup is the original');
  t.same([b.uid, b.gid, b.mode], [2, 2, 0o664], 'backup keeps the original owner and mode');
  t.match(ctx.report.toText(), 'vfstab: etc/vfstab: commented out (6 lines)');
});

t.test('swap device lines: the first field is the device, so they are commented out', async (t) => {
  t.notOk(vfstabKeep(['/dev/dsk/c0t0d0s1', '-', '-', 'swap', '-', 'no', '-']));
  t.ok(vfstabKeep(['swap', '-', '/tmp', 'tmpfs', '-', 'yes', '-']));
  t.ok(vfstabKeep(['server:/x', '-', '/x', 'nfs', '-', 'yes', '-']));
  t.notOk(vfstabKeep(['rpool/export', '-', '/export', 'zfs', '-', 'yes', '-']));
});

t.test("the image's own vfstab.pre_p2v wins, before or after vfstab", async (t) => {
  for (const before of [true, false]) {
    const ctx = makeCtx();
    const own = file('etc/vfstab.pre_p2v', 'older backup\n');
    const v = file('etc/vfstab', VFSTAB);
    const out = await collect(vfstabRule.apply(from(before ? [own, v] : [v, own]), ctx));
    t.same(paths(out).sort(), ['etc/vfstab', 'etc/vfstab.pre_p2v']);
    t.equal(byPath(out, 'etc/vfstab.pre_p2v')!.text, 'older backup\n');
    t.equal(byPath(out, 'etc/vfstab')!.text, VFSTAB_EXPECTED);
  }
});

t.test('an unchanged vfstab gets no trailer and no backup, but is set root:sys 0644', async (t) => {
  const ctx = makeCtx();
  const text = '#device\nfd\t-\t/dev/fd\tfd\t-\tno\t-\n/proc\t-\t/proc\tproc\t-\tno\t-\n';
  const out = await collect(vfstabRule.apply(from([file('etc/vfstab', text, { mode: 0o600, gid: 0 })]), ctx));
  t.equal(out.length, 1);
  t.equal(out[0]!.text, text);
  t.same([out[0]!.uid, out[0]!.gid, out[0]!.mode], [0, 3, 0o644]);
});

t.test('a symlinked vfstab is not touched', async (t) => {
  const ctx = makeCtx();
  const out = await collect(vfstabRule.apply(from([ent('etc/vfstab', 'symlink', undefined, { linkTarget: '/shared/vfstab' })]), ctx));
  t.same(paths(out), ['etc/vfstab']);
  t.match(ctx.report.toText(), "Invalid '/etc/vfstab' file within the zone (symlink)");
});

t.test('dfstab golden: every non-comment line commented out, blank lines kept', async (t) => {
  const ctx = makeCtx();
  const out = await collect(dfstabRule.apply(from([ent('etc/dfs'), file('etc/dfs/dfstab', DFSTAB, { mode: 0o644, uid: 0, gid: 0 })]), ctx));
  t.same(paths(out), ['etc/dfs', 'etc/dfs/dfstab', 'etc/dfs/dfstab.pre_p2v']);
  t.equal(out[1]!.text, DFSTAB_EXPECTED);
  t.same([out[1]!.uid, out[1]!.gid, out[1]!.mode], [0, 3, 0o644]);
  t.equal(out[2]!.text, DFSTAB.toString('latin1'));
  t.match(ctx.report.toText(), 'dfstab: etc/dfs/dfstab: commented out (5 lines)');
});

t.test('a dfstab with comments only is left as it is (owner kept)', async (t) => {
  const ctx = makeCtx();
  const text = '#\n#\tshare -F nfs /export\n\n';
  const out = await collect(dfstabRule.apply(from([file('etc/dfs/dfstab', text, { gid: 0, mode: 0o600 })]), ctx));
  t.same(out.map((o) => [o.path, o.text, o.gid, o.mode]), [['etc/dfs/dfstab', text, 0, 0o600]]);
  t.same(ctx.report.changes, []);
});
