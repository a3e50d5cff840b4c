import t from 'tap';
import { networkRule, ipmpGroups } from '../src/rules/network.js';
import { byPath, collect, ent, file, fixture, from, makeCtx, paths } from './rules-lib.js';

const E1000G0 = fixture('hostname.e1000g0');
const BGE0 = fixture('hostname.bge0');
const BGE1 = fixture('hostname.bge1');

const excl = (net: string[]) => makeCtx({ zone: { ipType: 'exclusive', net } });

t.test('shared-IP: nothing held or changed', async (t) => {
  const ctx = makeCtx();
  const input = [file('etc/hostname.e1000g0', E1000G0), file('etc/hostname.bge0', BGE0), file('etc/passwd', 'x')];
  const out = await collect(networkRule.apply(from(input), ctx));
  t.same(paths(out), ['etc/hostname.e1000g0', 'etc/hostname.bge0', 'etc/passwd']);
  t.same(ctx.report.changes, []);
});

t.test('exclusive-IP, one hostname file, one net: renamed, content and metadata kept', async (t) => {
  const ctx = excl(['vnic0']);
  const input = [ent('./etc'), file('./etc/hostname.e1000g0', E1000G0, { mode: 0o644, gid: 0 }), file('./etc/hosts', 'x'), ent('./etc/hostname6.e1000g0', 'file', ''), file('./etc/dhcp.e1000g1', '')];
  const out = await collect(networkRule.apply(from(input), ctx));
  t.same(paths(out), ['./etc', './etc/hosts', './etc/hostname6.e1000g0', './etc/dhcp.e1000g1', 'etc/hostname.vnic0']);
  const r = byPath(out, 'etc/hostname.vnic0')!;
  t.same([r.text, r.mode, r.uid, r.gid], ['web1\n', 0o644, 0, 0]);
  const text = ctx.report.toText();
  t.match(text, 'network: etc/hostname.e1000g0: renamed (to etc/hostname.vnic0)');
  t.match(text, 'network: etc/hostname6.e1000g0: needs manual work (IPv6 interface');
  t.match(text, 'network: etc/dhcp.e1000g1: needs manual work (DHCP interface');
});

t.test('exclusive-IP, already named after the net resource: unchanged', async (t) => {
  const ctx = excl(['e1000g0']);
  const out = await collect(networkRule.apply(from([file('etc/hostname.e1000g0', E1000G0)]), ctx));
  t.same(paths(out), ['etc/hostname.e1000g0']);
  t.same(ctx.report.changes, []);
});

t.test('exclusive-IP, several hostname files (IPMP group): nothing renamed, each case reported', async (t) => {
  const ctx = excl(['vnic0']);
  const input = [file('etc/hostname.bge0', BGE0), file('etc/hostname.bge1', BGE1)];
  const out = await collect(networkRule.apply(from(input), ctx));
  t.same(out.map((o) => [o.path, o.text]), [
    ['etc/hostname.bge0', BGE0.toString()],
    ['etc/hostname.bge1', BGE1.toString()],
  ]);
  t.equal(
    ctx.report.toText(),
    [
      'network: etc/hostname.*: not changed (Cannot update /etc/hostname.{net} file: 2 hostname.* files in the image (hostname.bge0, hostname.bge1))',
      "network: etc/hostname.bge0: needs manual work (IPMP group 'prod': configure IPMP in the global zone or on the zone's own links)",
      "network: etc/hostname.bge1: needs manual work (IPMP group 'prod': configure IPMP in the global zone or on the zone's own links)",
      '',
    ].join('\n'),
  );
});

t.test('exclusive-IP, two net resources or none, or no hostname file: reported', async (t) => {
  let ctx = excl(['vnic0', 'vnic1']);
  await collect(networkRule.apply(from([file('etc/hostname.e1000g0', E1000G0)]), ctx));
  t.match(ctx.report.toText(), 'etc/hostname.e1000g0: not changed (Cannot update /etc/hostname.{net} file: the zone has 2 net resources (vnic0, vnic1))');
  ctx = excl([]);
  await collect(networkRule.apply(from([file('etc/hostname.e1000g0', E1000G0)]), ctx));
  t.match(ctx.report.toText(), 'the zone has 0 net resources');
  ctx = excl(['vnic0']);
  await collect(networkRule.apply(from([file('etc/hosts', 'x')]), ctx));
  t.match(ctx.report.toText(), 'Cannot update /etc/hostname.{net} file: 0 hostname.* files in the image');
});

t.test('exclusive-IP, the one hostname file is a symlink: not moved', async (t) => {
  const ctx = excl(['vnic0']);
  const out = await collect(networkRule.apply(from([ent('etc/hostname.e1000g0', 'symlink', undefined, { linkTarget: 'x' })]), ctx));
  t.same(paths(out), ['etc/hostname.e1000g0']);
  t.match(ctx.report.toText(), 'not a regular file (symlink)');
});

t.test('ipmpGroups', async (t) => {
  t.same(ipmpGroups(BGE0), ['prod']);
  t.same(ipmpGroups(E1000G0), []);
});
