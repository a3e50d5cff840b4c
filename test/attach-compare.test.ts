// Every row of the update-on-attach decision table (solaris-p2v.md 4.5),
// with Solaris's exact messages.

import t from 'tap';
import { compareInventories } from '../src/attach/compare.js';
import type { Inventory, PackageRecord } from '../src/attach/types.js';

// (Object keys that look like integers iterate in numeric order: specs list patches ascending.)
type PatchSpec = Record<string, [rev: string, obsoletes?: string[]]>;

function inv(spec: Record<string, [version: string, patches?: PatchSpec]>): Inventory {
  const packages = new Map<string, PackageRecord>();
  for (const [name, [version, patches = {}]] of Object.entries(spec)) {
    const pm = new Map(Object.entries(patches).map(([num, [rev, obs = []]]) => [num, { rev, obsoletes: obs }] as const));
    packages.set(name, { name, version, patches: pm, hollow: false, allZones: true, thisZone: false });
  }
  return { packages };
}

const V05 = '11.10.0,REV=2005.01.21.15.53';
const V08 = '11.10.0,REV=2008.04.30.11.59';

t.test('package on src, not on dst: pkg_rm', async (t) => {
  const r = compareInventories(inv({ SUNWcsr: [V05], SUNWold: ['1.0'] }), inv({ SUNWcsr: [V05] }), 'z1');
  t.same(r, { ok: true, errors: [], pkgAdd: [], pkgRm: ['SUNWold'] });
});

t.test('package on dst, not on src: pkg_add', async (t) => {
  const r = compareInventories(inv({ SUNWcsr: [V05] }), inv({ SUNWnew: ['2.0'], SUNWcsr: [V05] }), 'z1');
  t.same(r, { ok: true, errors: [], pkgAdd: ['SUNWnew'], pkgRm: [] });
});

t.test('src version > dst version: downgrade refused', async (t) => {
  const r = compareInventories(inv({ SUNWcsr: [V08], SUNWold: ['1.0'] }), inv({ SUNWcsr: [V05], SUNWnew: ['1'] }), 'web1');
  t.same(r, {
    ok: false,
    errors: [`zone 'web1': ERROR: attempt to downgrade package SUNWcsr ${V08} to version ${V05}`],
    pkgAdd: [],
    pkgRm: [],
  }, 'message exact; the lists are dropped');
});

t.test('dst version > src version: pkg_rm and pkg_add', async (t) => {
  const r = compareInventories(inv({ SUNWcsr: [V05, { '119255': ['59'] }] }), inv({ SUNWcsr: [V08] }), 'z1');
  t.same(r, { ok: true, errors: [], pkgAdd: ['SUNWcsr'], pkgRm: ['SUNWcsr'] });
});

t.test('same version, src has patches, dst none', async (t) => {
  const r = compareInventories(inv({ SUNWcsr: [V05, { '118844': ['30', ['118344']], '119255': ['59'] }] }), inv({ SUNWcsr: [V05] }), 'z1');
  t.same(r.errors, [
    "zone 'z1': ERROR: attempt to downgrade package SUNWcsr, the source had patches but this system does not.  Patches:\n\t118844-30\n\t119255-59",
  ]);
  t.equal(r.ok, false);
});

t.test('same version, src patch missing on dst, not obsoleted', async (t) => {
  const r = compareInventories(
    inv({ SUNWcsr: [V05, { '119255': ['59'], '137138': ['09'] }] }),
    inv({ SUNWcsr: [V05, { '119255': ['59'] }] }),
    'z1',
  );
  t.same(r.errors, ["zone 'z1': ERROR: attempt to downgrade package SUNWcsr, the source had patch 137138-09 which is not installed on this system"]);
});

t.test('same version, src patch missing on dst but obsoleted by a dst patch of that package', async (t) => {
  const r = compareInventories(
    inv({ SUNWcsr: [V05, { '119255': ['59'], '137138': ['09'] }] }),
    inv({ SUNWcsr: [V05, { '119255': ['59'], '141445': ['09', ['137138', '138889']] }] }),
    'z1',
  );
  t.same(r, { ok: true, errors: [], pkgAdd: ['SUNWcsr'], pkgRm: [] }, 'accepted; the dst-only patch means reinstall');
});

t.test('obsoleted only by a patch of another package: still refused', async (t) => {
  const r = compareInventories(
    inv({ SUNWcsr: [V05, { '137138': ['09'] }], SUNWcsu: [V05] }),
    inv({ SUNWcsr: [V05, { '119255': ['59'] }], SUNWcsu: [V05, { '141445': ['09', ['137138']] }] }),
    'z1',
  );
  t.same(r.errors, ["zone 'z1': ERROR: attempt to downgrade package SUNWcsr, the source had patch 137138-09 which is not installed on this system"]);
});

t.test('same version, src patch rev > dst rev', async (t) => {
  const r = compareInventories(inv({ SUNWcsr: [V05, { '119255': ['59'] }] }), inv({ SUNWcsr: [V05, { '119255': ['42'] }] }), 'z1');
  t.same(r.errors, ["zone 'z1': ERROR: attempt to downgrade package SUNWcsr, the source had patch 119255-59 but this system only has 119255-42"]);
  t.same([r.pkgAdd, r.pkgRm], [[], []]);
});

t.test('same version, src patch rev > dst rev but obsoleted on dst', async (t) => {
  const r = compareInventories(
    inv({ SUNWcsr: [V05, { '119255': ['59'] }] }),
    inv({ SUNWcsr: [V05, { '119255': ['42'], '150000': ['01', ['119255']] }] }),
    'z1',
  );
  t.same(r, { ok: true, errors: [], pkgAdd: ['SUNWcsr'], pkgRm: [] });
});

t.test('same version: dst patch missing on src -> pkg_add only', async (t) => {
  const r = compareInventories(inv({ SUNWcsr: [V05, { '119255': ['59'] }] }), inv({ SUNWcsr: [V05, { '119255': ['59'], '120012': ['14'] }] }), 'z1');
  t.same(r, { ok: true, errors: [], pkgAdd: ['SUNWcsr'], pkgRm: [] });
});

t.test('same version: dst patch rev > src rev -> pkg_add only', async (t) => {
  const r = compareInventories(inv({ SUNWcsr: [V05, { '119255': ['42'] }] }), inv({ SUNWcsr: [V05, { '119255': ['59'] }] }), 'z1');
  t.same(r, { ok: true, errors: [], pkgAdd: ['SUNWcsr'], pkgRm: [] });
});

t.test('same version: dst has patches, src none -> pkg_add only', async (t) => {
  const r = compareInventories(inv({ SUNWcsr: [V05] }), inv({ SUNWcsr: [V05, { '119255': ['59'] }] }), 'z1');
  t.same(r, { ok: true, errors: [], pkgAdd: ['SUNWcsr'], pkgRm: [] });
});

t.test('same version, same patches: nothing to do', async (t) => {
  const p: PatchSpec = { '119255': ['59'], '118844': ['30', ['118344']] };
  const r = compareInventories(inv({ SUNWcsr: [V05, p] }), inv({ SUNWcsr: [V05, p] }), 'z1');
  t.same(r, { ok: true, errors: [], pkgAdd: [], pkgRm: [] });
});

t.test('all failures reported, in image order; pkg_add keeps the host order', async (t) => {
  const src = inv({
    SUNWzlib: [V08],
    SUNWcsr: [V05, { '119255': ['59'] }],
    SUNWcsu: [V05, { '119255': ['60'] }],
    SUNWgone: ['1.0'],
  });
  const dst = inv({
    SUNWzlib: [V05],
    SUNWcsr: [V05],
    SUNWcsu: [V05, { '119255': ['59'] }],
  });
  const r = compareInventories(src, dst, 'z9');
  t.same(r.errors, [
    `zone 'z9': ERROR: attempt to downgrade package SUNWzlib ${V08} to version ${V05}`,
    "zone 'z9': ERROR: attempt to downgrade package SUNWcsr, the source had patches but this system does not.  Patches:\n\t119255-59",
    "zone 'z9': ERROR: attempt to downgrade package SUNWcsu, the source had patch 119255-60 but this system only has 119255-59",
  ]);
  const ok = compareInventories(
    inv({ SUNWb: ['1.0'], SUNWa: ['1.0'], SUNWgone: ['1'] }),
    inv({ SUNWdep: ['1'], SUNWa: ['1.1'], SUNWb: ['1.0', { '100000': ['01'] }] }),
    'z9',
  );
  t.same(ok, { ok: true, errors: [], pkgAdd: ['SUNWdep', 'SUNWa', 'SUNWb'], pkgRm: ['SUNWa', 'SUNWgone'] });
});
