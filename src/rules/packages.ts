// Packages removed (solaris-p2v.md 3.9, rm_pkgs): the brand's pkgrm.lst
// (VRTSvxvm) plus the site's list, each only when var/sadm/pkg/<PKG> exists.
// Removing an SVR4 package needs its own procedure scripts to run inside the
// zone, which cannot be done offline, so this rule records, in the report,
// each package found and the exact command (with the admin file p2v uses)
// to run once the zone is up.

import { defineRule } from './stage.js';

export const PACKAGES = 'packages';
export const PKGRM_LIST = ['VRTSvxvm'];

/** The admin file Solaris p2v writes for `pkgrm -na`. */
export const PKGRM_ADMIN = [
  'mail=',
  'instance=overwrite',
  'partial=nocheck',
  'runlevel=nocheck',
  'idepend=nocheck',
  'rdepend=nocheck',
  'space=nocheck',
  'setuid=nocheck',
  'conflict=nocheck',
  'action=nocheck',
  'basedir=default',
];

const PKG = 'var/sadm/pkg/';

export const packagesRule = defineRule(PACKAGES, (ctx) => {
  const wanted = new Set([...PKGRM_LIST, ...ctx.site.removePackages.map((p) => p.trim()).filter((p) => p !== '' && !p.startsWith('#'))]);
  const found = new Set<string>();
  return {
    firstChars: 'v',
    entry(e, rel) {
      if (rel.charCodeAt(0) !== 118 /* v */ || !rel.startsWith(PKG)) return e;
      const i = rel.indexOf('/', PKG.length);
      const pkg = i < 0 ? rel.slice(PKG.length) : rel.slice(PKG.length, i);
      if (wanted.has(pkg)) found.add(pkg);
      return e;
    },
    finish() {
      if (found.size === 0) return null;
      for (const pkg of [...found].sort()) {
        ctx.report.add(PACKAGES, `${PKG}${pkg}`, 'to remove in the zone', `/usr/sbin/pkgrm -na <admin> ${pkg}`);
      }
      ctx.report.note(`pkgrm admin file for the packages to remove: ${PKGRM_ADMIN.join(' ')}`);
      return null;
    },
  };
});
