// Image sanity checks (solaris-p2v.md 2.7) with Solaris's exact lines, fed by
// the 'sanity-observer' rule.

import t from 'tap';
import type { Entry } from '../src/entry.js';
import { checkSanity, SanityObserver, unsafeDirs } from '../src/attach/sanity.js';

const FULL = ['etc', 'etc/svc', 'usr', 'sbin', 'lib', 'var', 'var/svc', 'lib/svc', 'sbin/zonename', 'usr/bin/chmod'];
const S10 = { OS: 'Solaris', VERSION: '10', REV: '0' };

t.test('observer: sees watched paths, implied directories, prefixes', async (t) => {
  const o = new SanityObserver();
  for (const p of ['./etc/svc/repository.db', '/usr/bin/chmod', 'sbin/', 'lib/svc/method/net-svc', 'var/svc/manifest/system/sysevent.xml', 'opt/etc/svc', 'usr/lib/x']) o.observe(p);
  t.same([...o.seen].sort(), ['etc', 'etc/svc', 'lib', 'lib/svc', 'sbin', 'usr', 'usr/bin/chmod', 'var', 'var/svc', 'var/svc/manifest/system/sysevent.xml']);
  const p = new SanityObserver({ prefix: 'root' });
  const entries = ['root', 'root/etc', 'etc/svc', 'root/var/svc/x'].map((path, index) => ({ path, index }) as Entry);
  const out: Entry[] = [];
  for await (const e of p.apply((async function* () { yield* entries; })())) out.push(e);
  t.same(out, entries, 'entries pass through');
  t.same([...p.seen].sort(), ['etc', 'var', 'var/svc']);
});

t.test('observer: etc, etc/dfs, etc/zones and var that are not directories are p2v refusals (safe_dir)', async (t) => {
  const o = new SanityObserver();
  const entries = [
    { path: './etc', type: 'dir' },
    { path: './etc/dfs', type: 'symlink', linkTarget: '/export/dfs' },
    { path: './etc/zones', type: 'dir' },
    { path: './etc/dfs.real/dfstab', type: 'file' },
    { path: './var', type: 'symlink', linkTarget: 'export/var' },
    { path: './usr', type: 'symlink', linkTarget: 'export/usr' },
  ].map((e, index) => ({ ...e, index }) as Entry);
  for await (const _ of o.apply((async function* () { yield* entries; })())) void _;
  t.same(unsafeDirs(o.notDir), ["Invalid '/etc/dfs' directory within the zone (symlink)", "Invalid '/var' directory within the zone (symlink)"]);
  const fine = new SanityObserver();
  for await (const _ of fine.apply((async function* () { yield* entries.filter((e) => e.type !== 'symlink'); })())) void _;
  t.same(unsafeDirs(fine.notDir), [], 'real directories, or absent ones, pass');
});

t.test('a whole native image on a matching host passes', async (t) => {
  const r = checkSanity({ seen: new Set([...FULL, 'var/svc/manifest/system/sysevent.xml']), root: '/zones/z1/root', image: S10, host: S10 });
  t.same(r, { ok: true, messages: ['  Sanity Check: Passed.  Looks like a native system.'], skipped: [], systemImage: true });
});

t.test('missing directories and a sparse image', async (t) => {
  const seen = new Set(FULL.filter((p) => !['etc/svc', 'var', 'sbin/zonename', 'usr/bin/chmod'].includes(p)));
  const r = checkSanity({ seen, root: '/zones/z1/root', image: S10, host: S10 });
  t.same(r.messages, [
    '  Sanity Check: Missing etc/svc at /zones/z1/root',
    '  Sanity Check: Missing var at /zones/z1/root',
    '  Sanity Check: Missing sbin/zonename at /zones/z1/root',
    '  Sanity Check: Missing usr/bin/chmod at /zones/z1/root',
    'Is this a sparse zone image?  The image must be whole-root.',
    '  Sanity Check: FAILED (see log for details).',
  ]);
  t.equal(r.ok, false);
  t.equal(r.systemImage, false);
});

t.test('release versions', async (t) => {
  const seen = new Set(FULL);
  const msg = (a: string, b: string) => `  Sanity Check: image release version ${a} does not match system release version ${b}, the zone is not usable on this system.`;
  const FAILED = '  Sanity Check: FAILED (see log for details).';
  t.same(checkSanity({ seen, root: '/r', image: { VERSION: '11' }, host: S10 }).messages, [msg('11', '10'), FAILED]);
  t.same(checkSanity({ seen, root: '/r', image: {}, host: S10 }).messages, [msg('-1', '10'), FAILED], 'image default -1');
  t.same(checkSanity({ seen, root: '/r', image: S10, host: {} }).messages, [msg('10', '0'), FAILED], 'host default 0');
  t.same(checkSanity({ seen, root: '/r', image: { VERSION: 'ten' }, host: S10 }).messages, [msg('ten', '10'), FAILED]);
  t.ok(checkSanity({ seen, root: '/r', image: { VERSION: ' 10 ' }, host: S10 }).ok, 'compared as numbers');
  const noHost = checkSanity({ seen, root: '/r', image: S10 });
  t.equal(noHost.ok, true);
  t.match(noHost.skipped, [/release version: this host has no \/var\/sadm\/system\/admin\/INST_RELEASE/]);
});
