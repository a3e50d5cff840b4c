// A stand-in for the target host's packaging data (what `--host-root /` reads
// on a Solaris host): the image's pkginfo files and INST_RELEASE copied into
// a small root, optionally with one package set to a version older than the
// image's (to show and test the downgrade refusal).

import fs from 'node:fs';
import path from 'node:path';

export interface HostOptions {
  /** Package whose VERSION is replaced by `olderVersion`, to make the host older than the image. */
  olderPackage?: string;
  olderVersion?: string;
}

export function makeHostRoot(imageDir: string, hostDir: string, opts: HostOptions = {}): void {
  const pkgs = path.join(imageDir, 'var/sadm/pkg');
  for (const name of fs.readdirSync(pkgs)) {
    const src = path.join(pkgs, name, 'pkginfo');
    if (!fs.existsSync(src)) continue;
    let text = fs.readFileSync(src, 'latin1');
    if (name === opts.olderPackage && opts.olderVersion) text = text.replace(/^VERSION=.*$/m, `VERSION=${opts.olderVersion}`);
    fs.mkdirSync(path.join(hostDir, 'var/sadm/pkg', name), { recursive: true });
    fs.writeFileSync(path.join(hostDir, 'var/sadm/pkg', name, 'pkginfo'), text, 'latin1');
  }
  for (const f of ['var/sadm/system/admin/INST_RELEASE', 'etc/release']) {
    const src = path.join(imageDir, f);
    if (!fs.existsSync(src)) continue;
    fs.mkdirSync(path.dirname(path.join(hostDir, f)), { recursive: true });
    fs.copyFileSync(src, path.join(hostDir, f));
  }
}
