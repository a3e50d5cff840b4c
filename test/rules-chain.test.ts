import t from 'tap';
import { applyRules, defaultRules, reportEntry } from '../src/rules/index.js';
import type { Rule } from '../src/rules/types.js';
import type { Entry } from '../src/entry.js';
import { byPath, collect, ent, file, fixture, from, makeCtx, paths, TRAILER } from './rules-lib.js';

function image(): Entry[] {
  return [
    ent('./'),
    ent('./dev'),
    ent('./dev/null', 'symlink', undefined, { linkTarget: '../devices/pseudo/mm@0:null' }),
    ent('./devices'),
    ent('./devices/pseudo/mm@0:null', 'char', undefined, { devMajor: 13, devMinor: 2 }),
    ent('./etc'),
    ent('./etc/dfs'),
    file('./etc/dfs/dfstab', 'share -F nfs /export/home\n'),
    file('./etc/hostname.e1000g0', 'web1\n'),
    ent('./etc/lu'),
    file('./etc/lu/.BE_CONFIG', 'x'),
    file('./etc/lutab', 'x'),
    file('./etc/shadow', 'root:abc:14313::::::\n', { mode: 0o400 }),
    ent('./etc/svc'),
    file('./etc/vfstab', '/dev/md/dsk/d0\t/dev/md/rdsk/d0\t/\tufs\t1\tno\tlogging\nswap\t-\t/tmp\ttmpfs\t-\tyes\t-\n'),
    ent('./etc/zones'),
    file('./etc/zones/web9.xml', '<zone name="web9"/>'),
    ent('./tmp'),
    file('./tmp/junk', 'x'),
    ent('./var'),
    ent('./var/log'),
    file('./var/log/web1.p2v.log', 'old report'),
    ent('./var/sadm/pkg/SUNWpmr'),
    file('./var/sadm/pkg/SUNWpmr/pkginfo', fixture('pkginfo.SUNWpmr')),
    file('./var/sadm/pkg/SUNWpmr/save/pspool/SUNWpmr/pkgmap', fixture('pkgmap.SUNWpmr')),
    ent('./var/sadm/pkg/VRTSvxvm'),
    file('./var/svc/manifest/system/power.xml', fixture('manifest/system/power.xml')),
    file('./var/svc/manifest/network/network-physical.xml', fixture('manifest/network/network-physical.xml')),
    ent('./zones'),
    ent('./zones/web9'),
    file('./zones/web9/root/etc/passwd', 'x'),
    ent('./zones/web90'),
    file('./etc/zones/index', 'global:installed:/\nweb9:installed:/zones/web9:uuid\n'),
    file('./zones/web9/root/etc/group', 'late'),
  ];
}

t.test('default order follows solaris-p2v.md 3.1', async (t) => {
  t.same(
    defaultRules().map((r) => r.name),
    ['exclusions', 'zone-dirs', 'nested-zones', 'live-upgrade', 'network', 'dfstab', 'vfstab', 'smf', 'packages', 'unconfigure', 'report-log'],
  );
  t.same(defaultRules({ skip: ['exclusions', 'unconfigure'] }).length, 9);
  t.throws(() => defaultRules({ skip: ['nope'] }), /unknown rule 'nope'/);
});

t.test('whole chain, shared-IP, preserve: result list and report', async (t) => {
  const ctx = makeCtx();
  const out = await collect(applyRules(from(image()), defaultRules(), ctx));
  t.same(paths(out), [
    './',
    './dev',
    './etc',
    './etc/dfs',
    './etc/dfs/dfstab',
    './etc/hostname.e1000g0',
    './etc/lu',
    './etc/shadow',
    './etc/svc',
    './etc/vfstab',
    './etc/zones',
    './etc/zones/web9.xml',
    './tmp',
    './var',
    './var/log',
    './var/sadm/pkg/SUNWpmr',
    './var/sadm/pkg/SUNWpmr/pkginfo',
    './var/sadm/pkg/SUNWpmr/save/pspool/SUNWpmr/pkgmap',
    './var/sadm/pkg/VRTSvxvm',
    './var/svc/manifest/system/power.xml',
    './var/svc/manifest/network/network-physical.xml',
    './zones',
    './zones/web9',
    './zones/web9/root/etc/passwd',
    './zones/web90',
    './etc/zones/index',
    'var/run',
    'var/tmp',
    'etc/mnttab',
    'proc',
    'etc/svc/volatile',
    'etc/dfs/dfstab.pre_p2v',
    'etc/vfstab.pre_p2v',
    'var/svc/profile/upgrade',
  ]);
  t.equal(byPath(out, './etc/vfstab')!.text, `# /dev/md/dsk/d0\t/dev/md/rdsk/d0\t/\tufs\t1\tno\tlogging\nswap\t-\t/tmp\ttmpfs\t-\tyes\t-\n${TRAILER}\n`);
  t.equal(byPath(out, './etc/dfs/dfstab')!.text, `# share -F nfs /export/home\n${TRAILER}\n`);
  t.equal(byPath(out, './etc/zones/index')!.text, 'global:installed:/\n');
  t.equal(byPath(out, './etc/shadow')!.text, 'root:abc:14313::::::\n', 'identity preserved');
  t.equal(
    byPath(out, 'var/svc/profile/upgrade')!.text,
    [
      '# Added by zonep2v for zone web1 on Tue Mar 10 14:05:09 UTC 2009',
      '/usr/sbin/svccfg delete -f svc:/system/power:default',
      '/usr/sbin/svccfg delhash -d /var/svc/manifest/system/power.xml',
      'rm -f /var/svc/manifest/system/power.xml',
      '/usr/sbin/svccfg delete -f svc:/system/power',
      '/usr/sbin/svccfg delhash -d /var/svc/manifest/system/power.xml',
      'rm -f /var/svc/manifest/system/power.xml',
      '/usr/sbin/svcadm enable svc:/network/physical:default',
      '/usr/sbin/svcadm disable svc:/network/physical:nwam',
      '',
    ].join('\n'),
  );
  t.same(ctx.removed, ['zones/web9', 'etc/zones/web9.xml']);
  const log = await collect(from([reportEntry(ctx)]));
  t.equal(
    log[0]!.text,
    [
      '# zonep2v: changes made to the image of zone web1 on Tue Mar 10 14:05:09 UTC 2009',
      'dfstab: etc/dfs/dfstab: commented out (1 line)',
      'live-upgrade: etc/lu/.BE_CONFIG: deleted (Live Upgrade state)',
      'live-upgrade: etc/lutab: deleted (Live Upgrade state)',
      'vfstab: etc/vfstab: commented out (1 line)',
      'report-log: var/log/web1.p2v.log: dropped (replaced by the report of this run)',
      'nested-zones: etc/zones/index: removed zone (web9 (installed) at /zones/web9: zonepath deleted)',
      'nested-zones: etc/zones/index: rewritten (kept 1 of 2 lines)',
      'zone-dirs: var/run: created (directory 1755)',
      'zone-dirs: var/tmp: created (directory 1777)',
      'zone-dirs: etc/mnttab: created (empty file 0444)',
      'zone-dirs: proc: created (directory 0755)',
      'zone-dirs: etc/svc/volatile: created (directory 0755)',
      'nested-zones: zones/web9: deleted (zonepath written before the index was seen (1 paths removed))',
      'nested-zones: etc/zones/web9.xml: deleted (configuration of removed zone web9, written before the index was seen (1 paths removed))',
      'dfstab: etc/dfs/dfstab.pre_p2v: created (copy of the original /etc/dfs/dfstab)',
      'vfstab: etc/vfstab.pre_p2v: created (copy of the original /etc/vfstab)',
      'smf: var/svc/manifest/system/power.xml: delete service (svc:/system/power:default (hollow package SUNWpmr))',
      'smf: var/svc/manifest/system/power.xml: delete service (svc:/system/power (hollow package SUNWpmr))',
      'smf: var/svc/profile/upgrade: enable service (svc:/network/physical:default (shared-IP))',
      'smf: var/svc/profile/upgrade: disable service (svc:/network/physical:nwam (shared-IP))',
      'smf: var/svc/profile/upgrade: created (8 lines)',
      'packages: var/sadm/pkg/VRTSvxvm: to remove in the zone (/usr/sbin/pkgrm -na <admin> VRTSvxvm)',
      'dropped: 1 excluded dev/*',
      'dropped: 1 excluded devices',
      'dropped: 1 device node',
      'dropped: 1 excluded tmp/*',
      'dropped: 1 nested zone',
      'note: The following zones in this image will be unusable and were removed: web9',
      'note: pkgrm admin file for the packages to remove: mail= instance=overwrite partial=nocheck runlevel=nocheck idepend=nocheck rdepend=nocheck space=nocheck setuid=nocheck conflict=nocheck action=nocheck basedir=default',
      '',
    ].join('\n'),
  );
});

t.test('whole chain, exclusive-IP, unconfigure; a foreign (non-stage) rule in the middle is chained too', async (t) => {
  const ctx = makeCtx({ identity: 'unconfigure', zone: { ipType: 'exclusive', net: ['vnic0'] } });
  const seen: string[] = [];
  const spy: Rule = {
    name: 'spy',
    async *apply(entries) {
      for await (const e of entries) {
        seen.push(e.path);
        yield e;
      }
    },
  };
  const rules = defaultRules();
  rules.splice(5, 0, spy); // after network
  const out = await collect(applyRules(from(image()), rules, ctx));
  const p = paths(out);
  t.notOk(p.some((x) => x.includes('hostname')), 'renamed by network, then removed by unconfigure');
  t.ok(seen.includes('etc/hostname.vnic0'), 'the renamed file flowed through the rules after network');
  t.notOk(seen.includes('./devices'), 'the spy sees the stream after the earlier rules only');
  t.equal(byPath(out, './etc/shadow')!.text, 'root::14313::::::\n');
  t.ok(p.includes('etc/.UNCONFIGURED') && p.includes('reconfigure'));
  t.notOk(byPath(out, 'var/svc/profile/upgrade')!.text!.includes('physical'), 'no shared-IP network lines');
  t.match(ctx.report.toText(), 'network: etc/hostname.e1000g0: renamed (to etc/hostname.vnic0)');
  t.match(ctx.report.toText(), 'unconfigure: etc/hostname.vnic0: deleted');
});
