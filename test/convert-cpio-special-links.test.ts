// convert --format cpio: a tar hard link whose target is a symlink (GNU tar
// archives a hard-linked symlink so) must not come out as an empty regular
// file. newc gives a hard link the S_IFREG mode of a data-less member, so the
// writer writes such a link as a copy of its target (a symlink with the same
// target). Found by randomised round-trip testing of convert's writers.

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { tmpdir } from './lib/tree.js';
import { runCli } from './lib/cli.js';

const hasTar = spawnSync('tar', ['--version']).status === 0;
const hasCpio = spawnSync('cpio', ['--version']).status === 0;

t.test('a hard link to a symlink, from a GNU tar archive, stays a symlink in newc', { skip: hasTar ? false : 'needs GNU tar' }, async (t) => {
  const work = tmpdir('zonep2v-cpio-speciallink-');
  t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));
  const src = path.join(work, 'src');
  fs.mkdirSync(path.join(src, 'a'), { recursive: true });
  fs.symlinkSync('target-\u00e9', path.join(src, 'z-sym'));
  fs.linkSync(path.join(src, 'z-sym'), path.join(src, 'a', 'sym2'));
  fs.writeFileSync(path.join(src, 'file'), 'data');
  fs.linkSync(path.join(src, 'file'), path.join(src, 'a', 'file2'));
  const tarFile = path.join(work, 'in.tar');
  const p = spawnSync('tar', ['--format=posix', '-cf', tarFile, '-C', src, '.']);
  t.equal(p.status, 0, String(p.stderr));
  t.match(spawnSync('tar', ['-tvf', tarFile]).stdout.toString(), /^h.* link to /m, 'the tar holds a hard link to the symlink');

  const out = path.join(work, 'out.cpio');
  const c = await runCli(['convert', '-a', tarFile, '-o', out, '--format', 'cpio', '--zone', 'z', '-p', '-q']);
  t.equal(c.code, 0, c.stderr);

  const check = (dir: string, who: string) => {
    for (const n of ['z-sym', 'a/sym2']) {
      const st = fs.lstatSync(path.join(dir, n));
      t.ok(st.isSymbolicLink(), `${who}: ${n} is a symlink`);
      if (st.isSymbolicLink()) t.equal(fs.readlinkSync(path.join(dir, n)), 'target-\u00e9', `${who}: ${n} target`);
    }
    t.equal(fs.readFileSync(path.join(dir, 'a', 'file2'), 'utf8'), 'data', `${who}: the regular hard link keeps its data`);
    t.equal(fs.statSync(path.join(dir, 'a', 'file2')).ino, fs.statSync(path.join(dir, 'file')).ino, `${who}: and stays linked`);
  };

  const ours = path.join(work, 'x-ours');
  fs.mkdirSync(ours);
  const x = await runCli(['extract', '-a', out, '-C', ours]);
  t.equal(x.code, 0, x.stderr);
  check(ours, 'zonep2v extract');

  if (hasCpio) {
    const gnu = path.join(work, 'x-cpio');
    fs.mkdirSync(gnu);
    const r = spawnSync('cpio', ['-idm', '--quiet', '--no-absolute-filenames'], { cwd: gnu, input: fs.readFileSync(out) });
    t.equal(r.status, 0, String(r.stderr));
    check(gnu, 'GNU cpio');
  }
});
