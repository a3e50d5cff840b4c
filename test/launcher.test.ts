// The launcher as users run it: bin/zonep2v.js loads the bundled CLI that
// `npm run build` makes (scripts/bundle.mjs), and from there both worker
// threads must still find their scripts. In auto mode a writing thread that
// cannot start only costs speed (files are written on the main thread), so
// the threads are forced here, where a wrong path is an error.

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { INLINE_MAX } from '../src/decode/lzw-thread.js';
import { snapshot, tmpdir } from './lib/tree.js';

const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const BIN = path.join(REPO, 'bin', 'zonep2v.js');
const BUNDLE = path.join(REPO, 'dist', 'src', 'bundle', 'zonep2v.cjs');
const MODULES = path.join(REPO, 'dist', 'src', 'cli', 'main.js');

t.test('the launcher loads the bundle, or the compiled modules when they are newer', async (t) => {
  t.ok(fs.existsSync(BUNDLE), 'the build made dist/src/bundle/zonep2v.cjs');
  t.ok(fs.statSync(BUNDLE).mtimeMs >= fs.statSync(MODULES).mtimeMs, 'it is not older than the compiled modules');
  // NODE_DEBUG=module names every CommonJS file loaded.
  const run = () => spawnSync(BIN, ['--help'], { encoding: 'utf8', env: { ...process.env, NODE_DEBUG: 'module' } });
  const fresh = run();
  t.equal(fresh.status, 0, 'zonep2v --help');
  t.match(fresh.stderr, /bundle\/zonep2v\.cjs/, 'the bundle was loaded');
  const saved = fs.statSync(BUNDLE);
  try {
    const old = new Date(Date.now() - 3600_000);
    fs.utimesSync(BUNDLE, old, old);
    const stale = run();
    t.equal(stale.status, 0, 'zonep2v --help with an older bundle');
    t.notMatch(stale.stderr, /bundle\/zonep2v\.cjs/, 'the older bundle was not loaded');
    t.match(stale.stdout, /usage: zonep2v <command>/, 'the compiled modules answered');
  } finally {
    fs.utimesSync(BUNDLE, saved.atime, saved.mtime);
  }
});

t.test('from the bundle, .Z is decoded on its thread and files are written on theirs', { skip: spawnSync('sh', ['-c', 'command -v compress']).status !== 0 && 'compress is not installed' }, async (t) => {
  const dir = tmpdir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const src = path.join(dir, 'src');
  fs.mkdirSync(path.join(src, 'etc', 'sub'), { recursive: true });
  // Compressible but not trivial: more than the inline decoder's share once compressed.
  const words = Array.from({ length: 4096 }, () => crypto.randomBytes(6).toString('hex'));
  let i = 0;
  for (let k = 0; k < 40; k++) {
    const lines: string[] = [];
    for (let n = 0; n < 9000; n++) lines.push(`${words[(n * 31 + k) % words.length]} ${words[(n * 7 + i++) % words.length]}`);
    fs.writeFileSync(path.join(src, k % 2 ? 'etc' : path.join('etc', 'sub'), `f${k}`), `${lines.join('\n')}\n`);
  }
  const archive = path.join(dir, 'image.cpio.Z');
  execFileSync('sh', ['-c', `cd "${src}" && find . -depth -print | cpio -o -H odc --quiet | compress -c > "${archive}"`]);
  t.ok(fs.statSync(archive).size > 2 * INLINE_MAX, `the .Z (${fs.statSync(archive).size} bytes) goes past the inline share`);
  const out = path.join(dir, 'out');
  fs.mkdirSync(out);
  const r = spawnSync(BIN, ['extract', '-a', archive, '-C', out], { encoding: 'utf8', env: { ...process.env, ZONEP2V_LZW: 'worker', ZONEP2V_WRITER: 'worker' } });
  t.equal(r.status, 0, `exit 0 (stderr: ${r.stderr.trim()})`);
  const want = snapshot(src, { hash: true });
  const got = snapshot(out, { hash: true });
  t.same([...got.keys()].sort(), [...want.keys()].sort(), 'the same names');
  for (const [name, w] of want) t.same(got.get(name)?.hash, w.hash, `${name}: the same content`);
});
