import t from 'tap';
import { unconfigureRule, DEFAULT_HOSTS, clearRootPassword } from '../src/rules/unconfigure.js';
import { byPath, collect, ent, file, fixture, from, makeCtx, paths } from './rules-lib.js';
import type { Entry } from '../src/entry.js';

const HOSTS = fixture('hosts');
const SHADOW = fixture('shadow');
const INIT = fixture('default-init');
const NSS_CONF = fixture('nsswitch.conf');
const NSS_FILES = fixture('nsswitch.files');
const NET_HOSTS = fixture('net-hosts');

function image(): Entry[] {
  return [
    ent('./etc'),
    file('./etc/.sysIDtool.state', 'x'),
    file('./etc/defaultdomain', 'example.com\n'),
    file('./etc/defaultrouter', '192.168.10.1\n'),
    ent('./etc/default'),
    file('./etc/default/init', INIT),
    file('./etc/hostname.e1000g0', 'legacy01\n'),
    file('./etc/hostname.e1000g0:1', 'legacy01-a\n'),
    file('./etc/hostname.lo0', ''),
    ent('./etc/hosts', 'symlink', undefined, { linkTarget: './inet/hosts' }),
    ent('./etc/inet'),
    file('./etc/inet/hosts', HOSTS, { mode: 0o444 }),
    file('./etc/inet/hosts.saved', 'stale copy\n'),
    file('./etc/inet/netmasks', '192.168.10.0\t255.255.255.0\n'),
    ent('./etc/net'),
    file('./etc/net/ticlts/hosts', NET_HOSTS),
    file('./etc/net/ticots/hosts', NET_HOSTS),
    file('./etc/net/ticotsord/hosts', NET_HOSTS),
    ent('./etc/netmasks', 'symlink', undefined, { linkTarget: './inet/netmasks' }),
    file('./etc/nodename', 'legacy01\n'),
    file('./etc/nsswitch.conf', NSS_CONF),
    file('./etc/nsswitch.files', NSS_FILES),
    file('./etc/shadow', SHADOW, { mode: 0o400 }),
    ent('./etc/TIMEZONE', 'symlink', undefined, { linkTarget: './default/init' }),
    file('./etc/vfstab', '#device\nfd\t-\t/dev/fd\tfd\t-\tno\t-\nnfssrv:/export/tools\t-\t/opt/tools\tnfs\t-\tyes\trw\n# old:/x - /x nfs - yes -\n'),
    ent('./var/nis'),
    file('./var/nis/NIS_COLD_START', 'x'),
    ent('./var/yp/binding'),
    ent('./var/yp/binding/example.com'),
    file('./var/yp/binding/example.com/ypservers', 'nis1\n'),
  ];
}

t.test('preserve: nothing changes', async (t) => {
  const ctx = makeCtx({ identity: 'preserve' });
  const input = image();
  const out = await collect(unconfigureRule.apply(from(input), ctx));
  t.same(paths(out), input.map((e) => e.path));
  t.same(ctx.report.changes, []);
});

t.test('unconfigure golden: the sys-unconfig file changes, offline', async (t) => {
  const ctx = makeCtx({ identity: 'unconfigure' });
  const out = await collect(unconfigureRule.apply(from(image()), ctx));
  t.same(paths(out), [
    './etc',
    './etc/.sysIDtool.state',
    './etc/default',
    './etc/default/init',
    './etc/hostname.lo0',
    './etc/hosts',
    './etc/inet',
    './etc/inet/hosts',
    './etc/net',
    './etc/netmasks',
    'etc/net/ticlts/hosts',
    'etc/net/ticots/hosts',
    'etc/net/ticotsord/hosts',
    './etc/nsswitch.files',
    './etc/nsswitch.conf',
    './etc/shadow',
    './etc/TIMEZONE',
    './etc/vfstab',
    './var/nis',
    './var/yp/binding',
    'etc/inet/hosts.saved',
    'etc/vfstab.orig',
    'etc/.UNCONFIGURED',
    'reconfigure',
  ]);
  const h = byPath(out, './etc/inet/hosts')!;
  t.same([h.text, h.mode], [DEFAULT_HOSTS, 0o444]);
  const saved = byPath(out, 'etc/inet/hosts.saved')!;
  t.same([saved.text, saved.mode], [HOSTS.toString('latin1'), 0o444], "the original, replacing the image's stale copy");
  t.equal(byPath(out, './etc/shadow')!.text, SHADOW.toString('latin1').replace('root:Xa8C2k3fG9d.E:', 'root::'));
  t.equal(byPath(out, './etc/shadow')!.mode, 0o400);
  t.equal(byPath(out, './etc/default/init')!.text, INIT.toString('latin1').replace('TZ=Europe/Paris', 'TZ=PST8PDT'));
  t.equal(byPath(out, './etc/nsswitch.conf')!.text, NSS_FILES.toString('latin1'));
  for (const p of ['etc/net/ticlts/hosts', 'etc/net/ticots/hosts', 'etc/net/ticotsord/hosts']) {
    t.equal(byPath(out, p)!.text, NET_HOSTS.toString('latin1').replace('legacy01\tlegacy01\n', ''), p);
  }
  t.equal(byPath(out, './etc/vfstab')!.text, '#device\nfd\t-\t/dev/fd\tfd\t-\tno\t-\n# old:/x - /x nfs - yes -\n');
  t.match(byPath(out, 'etc/vfstab.orig')!.text, 'nfssrv:/export/tools');
  for (const p of ['etc/.UNCONFIGURED', 'reconfigure']) t.same([byPath(out, p)!.size, byPath(out, p)!.mode], [0, 0o644]);
  const text = ctx.report.toText();
  t.match(text, "unconfigure: etc/inet/hosts.saved: replaced the image's copy");
  t.match(text, 'unconfigure: etc/hostname.e1000g0:1: deleted');
  t.match(text, 'unconfigure: var/yp/binding/example.com/ypservers: deleted (NIS binding)');
  t.match(text, 'unconfigure: etc/net/ticlts/hosts: rewritten (removed the entries of host legacy01)');
});

t.test('unconfigure: marker files already there are kept; nsswitch.files first; no nodename', async (t) => {
  const ctx = makeCtx({ identity: 'unconfigure' });
  const input = [file('etc/nsswitch.files', NSS_FILES), file('etc/nsswitch.conf', NSS_CONF), file('etc/net/ticlts/hosts', NET_HOSTS), file('etc/.UNCONFIGURED', ''), file('reconfigure', ''), file('etc/TIMEZONE', 'TZ=US/Eastern\n')];
  const out = await collect(unconfigureRule.apply(from(input), ctx));
  t.same(paths(out), ['etc/nsswitch.files', 'etc/nsswitch.conf', 'etc/.UNCONFIGURED', 'reconfigure', 'etc/TIMEZONE', 'etc/net/ticlts/hosts']);
  t.equal(byPath(out, 'etc/nsswitch.conf')!.text, NSS_FILES.toString('latin1'));
  t.equal(byPath(out, 'etc/net/ticlts/hosts')!.text, NET_HOSTS.toString('latin1'));
  t.equal(byPath(out, 'etc/TIMEZONE')!.text, 'TZ=PST8PDT\n');
});

t.test('clearRootPassword keeps the rest of the line and other users', async (t) => {
  t.equal(clearRootPassword(Buffer.from('root:abc:1:2:3:4:5:6:\nroot2:x:::\n'))!.toString(), 'root::1:2:3:4:5:6:\nroot2:x:::\n');
  t.equal(clearRootPassword(Buffer.from('root::1::::::\n')), null);
});

t.test('unconfigure twice (installing what convert -u wrote): the real old host table stays in hosts.saved', async (t) => {
  const first = await collect(unconfigureRule.apply(from(image()), makeCtx({ identity: 'unconfigure' })));
  const again = first.map((o) => file(o.path, o.text ?? '', { mode: o.mode }));
  const ctx = makeCtx({ identity: 'unconfigure' });
  const out = await collect(unconfigureRule.apply(from(again), ctx));
  t.equal(byPath(out, './etc/inet/hosts')!.text, DEFAULT_HOSTS);
  t.equal(byPath(out, 'etc/inet/hosts.saved')!.text, HOSTS.toString('latin1'), 'not replaced by the default table');
  t.match(ctx.report.toText(), 'unconfigure: etc/inet/hosts: not changed (already the default host table; etc/inet/hosts.saved left as it is)');
});

t.test('unconfigure: identity files outside the emulated list are kept and reported (ipnodes file, DNS, LDAP client, NIS+ root key)', async (t) => {
  const ctx = makeCtx({ identity: 'unconfigure' });
  const input = [
    file('./etc/.rootkey', '0123456789abcdef\n', { mode: 0o600 }),
    file('./etc/inet/ipnodes', HOSTS, { mode: 0o444 }),
    file('./etc/resolv.conf', fixture('resolv.conf')),
    ent('./var/ldap'),
    file('./var/ldap/ldap_client_file', fixture('ldap_client_file'), { mode: 0o400 }),
    file('./var/ldap/ldap_client_cred', 'NS_LDAP_BINDDN= cn=proxyagent,ou=profile,dc=example,dc=com\nNS_LDAP_BINDPASSWD= {NS1}ecfa88f3a945c411\n', { mode: 0o400 }),
  ];
  const out = await collect(unconfigureRule.apply(from(input), ctx));
  const added = ['etc/.UNCONFIGURED', 'reconfigure'];
  t.same(paths(out).filter((p) => !added.includes(p)), paths(input), 'every file kept');
  t.equal(byPath(out, './etc/inet/ipnodes')!.text, HOSTS.toString('latin1'), 'ipnodes kept as it was');
  t.equal(byPath(out, './var/ldap/ldap_client_file')!.text, fixture('ldap_client_file').toString('latin1'), 'LDAP client file kept as it was');
  const text = ctx.report.toText();
  t.match(text, 'unconfigure: etc/inet/ipnodes: not changed (needs manual work: a regular file, not the symlink to hosts');
  t.match(text, 'unconfigure: etc/resolv.conf: not changed (needs manual work: DNS client configuration');
  t.match(text, 'unconfigure: etc/.rootkey: not changed (needs manual work: NIS+ root key');
  t.match(text, 'unconfigure: var/ldap/ldap_client_file: not changed (needs manual work: LDAP client configuration');
  t.match(text, 'unconfigure: var/ldap/ldap_client_cred: not changed (needs manual work: LDAP client credentials');
  // The usual ipnodes, a symlink to hosts, is not reported.
  const ctx2 = makeCtx({ identity: 'unconfigure' });
  await collect(unconfigureRule.apply(from([ent('./etc/inet/ipnodes', 'symlink', undefined, { linkTarget: './hosts' })]), ctx2));
  t.notMatch(ctx2.report.toText(), 'ipnodes');
});
