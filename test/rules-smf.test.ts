import t from 'tap';
import fs from 'node:fs';
import { smfRule, pkgmapManifests, toFmri, UPGRADE } from '../src/rules/smf.js';
import { scanManifest, inventory } from '../src/rules/manifest.js';
import { byPath, collect, ent, file, fixture, FIXTURES, from, makeCtx, paths } from './rules-lib.js';
import type { Entry } from '../src/entry.js';

const MANIFESTS = [
  'network/network-physical.xml',
  'network/routing-setup.xml',
  'network/routing/route.xml',
  'network/routing/ripng.xml',
  'network/shares/group.xml',
  'network/smb/server.xml',
  'system/power.xml',
  'system/xvm/domains.xml',
];

function pkg(name: string): Entry[] {
  return [
    ent(`var/sadm/pkg/${name}`),
    file(`var/sadm/pkg/${name}/pkginfo`, fixture(`pkginfo.${name}`)),
    file(`var/sadm/pkg/${name}/save/pspool/${name}/pkgmap`, fixture(`pkgmap.${name}`)),
  ];
}

const manifests = (): Entry[] => MANIFESTS.map((m) => file(`./var/svc/manifest/${m}`, fixture(`manifest/${m}`), { mode: 0o444 }));

t.test('manifest scanner: services, instances, create_default_instance; comments and DOCTYPE skipped', async (t) => {
  const svcs = scanManifest(fixture('manifest/system/xvm/domains.xml').toString('latin1'));
  t.same(svcs, [
    { name: 'system/xvm/domains', instances: ['default', 'autoboot'] },
    { name: 'system/xvm/store', instances: ['default'] },
  ]);
  t.same(inventory(svcs), ['svc:/system/xvm/domains:default', 'svc:/system/xvm/domains:autoboot', 'svc:/system/xvm/domains', 'svc:/system/xvm/store:default', 'svc:/system/xvm/store']);
  t.same(scanManifest(fixture('manifest/system/power.xml').toString()), [{ name: 'system/power', instances: ['default'] }], 'service_fmri is not a service');
  t.same(scanManifest(fixture('manifest/network/network-physical.xml').toString()), [{ name: 'network/physical', instances: ['default', 'nwam'] }]);
  t.same(scanManifest('<service name="a/b"><instance name="x"/>'), [{ name: 'a/b', instances: ['x'] }], 'truncated input');
  t.same(scanManifest('<service name=a/b><instance name="x&amp;y"/></service><instance name="orphan"/>'), [{ name: 'a/b', instances: ['x&y'] }]);
  t.same(scanManifest('<!-- <service name="c"> -->'), []);
});

t.test('pkgmap: f lines under var/svc/manifest/ only', async (t) => {
  t.same(pkgmapManifests(fixture('pkgmap.SUNWpmr')), ['var/svc/manifest/system/power.xml']);
  t.same(pkgmapManifests(fixture('pkgmap.SUNWxvmr')), ['var/svc/manifest/system/xvm/domains.xml']);
  t.equal(toFmri('network/ntp'), 'svc:/network/ntp');
  t.equal(toFmri('svc:/network/ntp:default'), 'svc:/network/ntp:default');
});

t.test('shared-IP golden: hollow services deleted, network, disable list, site list and shares, appended to the upgrade profile', async (t) => {
  const ctx = makeCtx({ site: { disableServices: ['network/ntp'], removePackages: [] } });
  const upgrade = file('var/svc/profile/upgrade', fixture('upgrade'), { mode: 0o644, uid: 0, gid: 3 });
  // Manifests first, then the upgrade profile, packages last: facts in any order.
  const input = [...manifests(), upgrade, ...pkg('SUNWcsr'), ...pkg('SUNWpmr'), ...pkg('SUNWxvmr'), file('usr/bin/ls', 'elf')];
  const out = await collect(smfRule.apply(from(input), ctx));
  const p = paths(out);
  t.equal(p[p.length - 1], UPGRADE, 'the profile comes out at the end');
  t.equal(p.length, input.length);
  t.equal(out[p.length - 1]!.text, fixture('upgrade.expected').toString('latin1'));
  for (const m of MANIFESTS) t.equal(byPath(out, `./var/svc/manifest/${m}`)!.text, fixture(`manifest/${m}`).toString('latin1'), `${m} passes intact`);
  const text = ctx.report.toText();
  t.match(text, 'smf: var/svc/manifest/system/power.xml: delete service (svc:/system/power:default (hollow package SUNWpmr))');
  t.match(text, 'smf: var/svc/profile/upgrade: disable service (svc:/network/shares/group:zfs (zones cannot share file systems))');
  t.match(text, 'smf: var/svc/profile/upgrade: appended (30 lines)');
});

t.test('exclusive-IP, packages before manifests, no profile in the image: created, no network lines', async (t) => {
  const ctx = makeCtx({ zone: { ipType: 'exclusive', net: ['vnic0'] } });
  const input = [...pkg('SUNWpmr'), ...pkg('SUNWcsr'), ...manifests().reverse()];
  const out = await collect(smfRule.apply(from(input), ctx));
  const u = byPath(out, UPGRADE)!;
  t.same([u.mode, u.uid, u.gid], [0o644, 0, 3]);
  t.equal(
    u.text,
    [
      '# Added by zonep2v for zone web1 on Tue Mar 10 14:05:09 UTC 2009',
      '/usr/sbin/svccfg delete -f svc:/system/power:default',
      '/usr/sbin/svccfg delhash -d /var/svc/manifest/system/power.xml',
      'rm -f /var/svc/manifest/system/power.xml',
      '/usr/sbin/svccfg delete -f svc:/system/power',
      '/usr/sbin/svccfg delhash -d /var/svc/manifest/system/power.xml',
      'rm -f /var/svc/manifest/system/power.xml',
      '/usr/sbin/svcadm disable svc:/network/smb/server',
      '/usr/sbin/svcadm disable svc:/network/shares/group:default',
      '/usr/sbin/svcadm disable svc:/network/shares/group:zfs',
      '',
    ].join('\n'),
  );
});

t.test('nothing to do: the image profile passes unchanged, none created', async (t) => {
  const ctx = makeCtx({ zone: { ipType: 'exclusive', net: [] } });
  let out = await collect(smfRule.apply(from([file('var/svc/profile/upgrade', 'x'), file('var/svc/manifest/a.xml', '<service name="a/b"><instance name="c"/></service>')]), ctx));
  t.same(out.map((o) => [o.path, o.text]), [['var/svc/manifest/a.xml', '<service name="a/b"><instance name="c"/></service>'], ['var/svc/profile/upgrade', 'x']]);
  out = await collect(smfRule.apply(from([file('etc/passwd', 'x')]), makeCtx({ zone: { ipType: 'exclusive', net: [] } })));
  t.same(paths(out), ['etc/passwd']);
});

t.test('a hollow package whose manifest is missing is reported; unsafe names never reach the script', async (t) => {
  const ctx = makeCtx({ zone: { ipType: 'exclusive', net: [] } });
  const input = [
    file('var/sadm/pkg/SUNWx/pkginfo', 'PKG=SUNWx\nSUNW_PKG_HOLLOW=true\n'),
    file('var/sadm/pkg/SUNWx/save/pspool/SUNWx/pkgmap', ': 1 2\n1 f manifest var/svc/manifest/gone.xml 0444 root sys 1 2 3\n1 f manifest var/svc/manifest/evil.xml 0444 root sys 1 2 3\n'),
    file('var/svc/manifest/evil.xml', "<service name='a;reboot'><instance name='x'/></service>"),
  ];
  const out = await collect(smfRule.apply(from(input), ctx));
  t.notOk(byPath(out, UPGRADE), 'no profile: nothing safe to write');
  const text = ctx.report.toText();
  t.match(text, 'var/svc/manifest/gone.xml (hollow package SUNWx) is not in the image');
  t.match(text, 'unsafe name "svc:/a;reboot:x"');
});

t.test('a service deleted with its hollow package is not disabled afterwards (Solaris lists the services after the deletes)', async (t) => {
  const ctx = makeCtx();
  const pkginfo = fixture('pkginfo.SUNWpmr').toString('latin1').replace(/SUNWpmr/g, 'SUNWsmbsr');
  const pkgmap = ': 1 40\n1 d none var/svc/manifest/network/smb 0755 root sys\n1 f manifest var/svc/manifest/network/smb/server.xml 0444 root sys 2860 20343 1106348110\n';
  const input = [
    file('var/sadm/pkg/SUNWsmbsr/pkginfo', pkginfo),
    file('var/sadm/pkg/SUNWsmbsr/save/pspool/SUNWsmbsr/pkgmap', pkgmap),
    file('var/svc/manifest/network/smb/server.xml', fixture('manifest/network/smb/server.xml'), { mode: 0o444 }),
    file('var/svc/manifest/network/shares/group.xml', fixture('manifest/network/shares/group.xml'), { mode: 0o444 }),
  ];
  const out = await collect(smfRule.apply(from(input), ctx));
  const text = byPath(out, UPGRADE)!.text!;
  t.match(text, '/usr/sbin/svccfg delete -f svc:/network/smb/server:default\n');
  t.notMatch(text, 'svcadm disable svc:/network/smb/server', 'deleted, so not disabled');
  t.match(text, '/usr/sbin/svcadm disable svc:/network/shares/group:default\n', 'services of other packages are still disabled');
});

t.test('fixtures directory sanity', async (t) => {
  for (const m of MANIFESTS) t.ok(fs.existsSync(new URL(`manifest/${m}`, FIXTURES)), m);
});

t.test('p2v of an image p2v-ed before (install of a convert archive): the lines already at the end are not appended again', async (t) => {
  const input = () => [...manifests(), ...pkg('SUNWcsr'), ...pkg('SUNWpmr'), ...pkg('SUNWxvmr')];
  const first = await collect(smfRule.apply(from([...input(), file('var/svc/profile/upgrade', fixture('upgrade'))]), makeCtx()));
  const once = byPath(first, UPGRADE)!.text!;
  const ctx = makeCtx();
  const second = await collect(smfRule.apply(from([...input(), file('var/svc/profile/upgrade', once)]), ctx));
  t.equal(byPath(second, UPGRADE)!.text, once, 'unchanged');
  t.match(ctx.report.toText(), 'smf: var/svc/profile/upgrade: not changed (its 29 lines are there already (an earlier p2v of this image))');

  // A site line after our blocks ends them: all ours run again after it.
  for (const site of ['echo done', '/usr/sbin/svcadm enable svc:/network/smb/server # site']) {
    const third = await collect(smfRule.apply(from([...input(), file('var/svc/profile/upgrade', `${once}${site}\n`)]), makeCtx()));
    const text = byPath(third, UPGRADE)!.text!;
    t.equal(text.split('# Added by zonep2v').length - 1, 2, `a second block after ${site}`);
    t.ok(text.endsWith('/usr/sbin/svcadm disable svc:/network/shares/group:zfs\n'));
  }
  // A later enable of a service ours disabled: the disable is not in effect, so written again.
  const undone = `${once}# Added by zonep2v for zone web1 on x\n/usr/sbin/svcadm enable svc:/network/smb/server\n`;
  const fifth = await collect(smfRule.apply(from([...input(), file('var/svc/profile/upgrade', undone)]), makeCtx()));
  t.same(byPath(fifth, UPGRADE)!.text!.slice(undone.length).split('\n').slice(1), ['/usr/sbin/svcadm disable svc:/network/smb/server', '']);

  // Only the new lines of a later run (here: a site service) are added.
  const ctx4 = makeCtx({ site: { disableServices: ['network/ntp', 'network/telnet'], removePackages: [] } });
  const fourth = await collect(smfRule.apply(from([...input(), file('var/svc/profile/upgrade', once)]), ctx4));
  const added = byPath(fourth, UPGRADE)!.text!.slice(once.length).split('\n');
  t.match(added[0], /^# Added by zonep2v for zone web1 on /);
  t.same(added.slice(1), ['/usr/sbin/svcadm disable svc:/network/ntp', '/usr/sbin/svcadm disable svc:/network/telnet', '']);
  t.match(ctx4.report.toText(), 'appended (2 lines (29 there already))');
});
