// FsSink against the hostile rows of security.md section 1 (groups A-D and H)
// that can be expressed as entries. Each case writes into an extraction
// root beside a canary directory; after every case the canary, and
// everything else beside the root, must be unchanged (snapshot + diffTrees),
// and abort() must put the root back as it was.

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { FsSink } from '../src/sink/fs.js';
import { PathRootedFs, ProcFdRootedFs, type RootedFs } from '../src/sink/rootfs.js';
import { diffTrees, dir, type T, expectReject, hard, isRoot, mkEntry, setupEnv, snapshot, sym, type Env, type Spec } from './sink-lib.js';

type Step = Spec | { reject: Spec; kind: string };

interface Case {
  id: string;
  title: string;
  prepare?: (root: string, canary: string) => void;
  steps: (env: Env) => Step[];
  /** Checks after finish(). */
  after?: (t: Tap, env: Env) => void;
  owners?: boolean;
  backend?: (env: Env) => (root: string) => RootedFs;
  /** finish() must fail with this kind. */
  finishRejects?: string;
  /** Run finish() with the race flag set (the backend's race acts then). */
  raceAtFinish?: boolean;
  /**
   * What abort() cannot restore: 'removals' when the case replaced
   * pre-existing things (they are gone, nothing else differs), or the exact
   * diff lines (an attacker's planted link stays: it is not ours).
   */
  afterAbort?: 'removals' | { diff: string[]; left: number };
}

/** Set while finish() runs, for the race that swaps a placeholder. */
const race = { finishing: false };

/** The backend under test; the race cases wrap it. */
const anchors = ProcFdRootedFs.supported() ? (['path', 'proc'] as const) : (['path'] as const);
let current: 'path' | 'proc' = 'path';
const realFs = (root: string): RootedFs => (current === 'proc' ? new ProcFdRootedFs(root) : new PathRootedFs(root));

type Tap = T;

const r = (env: Env, rel: string) => Buffer.concat([Buffer.from(env.root + '/'), Buffer.from(rel, 'latin1')]);
const lst = (env: Env, rel: string) => fs.lstatSync(r(env, rel));
const readS = (env: Env, rel: string) => fs.readFileSync(r(env, rel), 'latin1');
const noSlash = (p: string) => p.replace(/^\/+/, '');
const passwdHash = () => crypto.createHash('sha256').update(fs.readFileSync('/etc/passwd')).digest('hex');

const cases: Case[] = [
  // ------------------------------------------------------------ A. names
  {
    id: 'A1',
    title: 'absolute name: leading / stripped, written inside, reported once',
    steps: (env) => [{ path: `${env.canary}/victim`, data: 'PWNED' }, { path: `${env.canary}/sub/passwd`, data: 'PWNED' }],
    after: (t, env) => {
      t.equal(readS(env, `${noSlash(env.canary)}/victim`), 'PWNED');
      t.same(env.warnings.filter((w) => w.kind === 'leading-slash').length, 1);
    },
  },
  {
    id: 'A2',
    title: 'several leading slashes are all stripped',
    steps: (env) => [{ path: `////${noSlash(env.canary)}/victim`, data: 'PWNED' }, { path: `//${noSlash(env.canary)}/x`, data: 'PWNED' }],
    after: (t, env) => t.equal(readS(env, `${noSlash(env.canary)}/victim`), 'PWNED'),
  },
  {
    id: 'A3',
    title: 'leading .. rejected',
    steps: () => [
      { reject: { path: '../canary/victim', data: 'PWNED' }, kind: 'unsafe-path' },
      { reject: { path: '../'.repeat(40) + 'tmp/evil.txt', data: 'PWNED' }, kind: 'unsafe-path' },
      { reject: dir('../canary', { mode: 0o777 }), kind: 'unsafe-path' },
      { reject: sym('../canary/l', '/'), kind: 'unsafe-path' },
    ],
  },
  {
    id: 'A4',
    title: 'inner .. rejected, even when it would stay inside',
    steps: () => [
      { reject: { path: 'tmp/../../canary/victim', data: 'PWNED' }, kind: 'unsafe-path' },
      { reject: { path: 'a/../b', data: 'x' }, kind: 'unsafe-path' },
      { reject: { path: 'a/..', type: 'dir' }, kind: 'unsafe-path' },
    ],
    after: (t, env) => t.same(fs.readdirSync(env.root), [], 'nothing created, not even parents'),
  },
  {
    id: 'A5',
    title: 'empty name and "." as a non-directory rejected; "./" with hostile metadata ignored',
    prepare: (root) => fs.chmodSync(root, 0o755),
    steps: () => [
      { reject: { path: '', data: 'x' }, kind: 'unsafe-path' },
      { reject: { path: '.', data: 'x' }, kind: 'unsafe-path' },
      { reject: sym('./', '/'), kind: 'unsafe-path' },
      dir('./', { mode: 0o777, uid: 1000, gid: 1000, mtime: 5 }),
      dir('', { mode: 0o1777 }),
    ],
    after: (t, env) => {
      const st = fs.lstatSync(env.root);
      t.equal(st.mode & 0o7777, 0o755);
      t.equal(st.uid, process.getuid?.());
    },
  },
  {
    id: 'A6',
    title: 'regular file whose name ends in / rejected',
    steps: () => [{ reject: { path: 'd/', data: 'x' }, kind: 'trailing-slash' }],
  },
  {
    id: 'A7',
    title: 'NUL inside a name rejected (never passed to fs)',
    steps: (env) => [
      { reject: { path: 'ok\0../../canary/victim', data: 'PWNED' }, kind: 'unsafe-path' },
      { reject: { path: `ok\0${env.canary}/victim`, data: 'PWNED' }, kind: 'unsafe-path' },
    ],
  },
  {
    id: 'A8',
    title: 'backslashes are ordinary bytes',
    steps: () => [{ path: '..\\..\\canary\\victim', data: 'literal' }],
    after: (t, env) => t.same(fs.readdirSync(env.root), ['..\\..\\canary\\victim']),
  },
  {
    id: 'A10',
    title: 'over-long component and path rejected, shown truncated',
    steps: () => [
      { reject: { path: 'a'.repeat(300), data: 'x' }, kind: 'unsafe-path' },
      { reject: { path: 'd/'.repeat(2100) + 'f', data: 'x' }, kind: 'unsafe-path' },
      { reject: { path: ('x'.repeat(200) + '/').repeat(21) + 'f', data: 'x' }, kind: 'unsafe-path' },
      { reject: sym('l', 'x'.repeat(5000)), kind: 'unsafe-path' },
    ],
  },
  {
    id: 'A11',
    title: 'excessive depth rejected',
    steps: () => [
      { reject: { path: 'a/'.repeat(1100) + 'f', data: 'x' }, kind: 'unsafe-path' },
      { reject: { path: 'a/'.repeat(100_000) + 'f', data: 'x' }, kind: 'unsafe-path' },
    ],
    after: (t, env) => t.same(fs.readdirSync(env.root), []),
  },
  {
    id: 'A14',
    title: 'control characters are legal names but escaped in every message',
    steps: () => [{ path: 'x\n-rw-r--r-- root root etc/passwd', data: 'x' }, { reject: { path: '\x1b[2J/../x', data: 'x' }, kind: 'unsafe-path' }],
    after: (t, env) => t.ok(fs.existsSync(path.join(env.root, 'x\n-rw-r--r-- root root etc')), 'newline name created as is'),
  },
  {
    id: 'A15',
    title: 'type changes: file, dir, file inside; dir then file; non-empty dir refused',
    steps: () => [
      { path: 'x', data: '1' },
      dir('x'),
      { path: 'x/y', data: '2' },
      { reject: { path: 'x', data: '3' }, kind: 'not-empty' },
      { reject: { path: 'x', type: 'fifo' }, kind: 'not-empty' },
    ],
    after: (t, env) => t.equal(readS(env, 'x/y'), '2'),
  },
  // ------------------------------------------------------------ B. symlinks
  {
    id: 'B1',
    title: 'symlink to outside, then a file and a dir through it',
    steps: (env) => [
      sym('d', env.canary),
      { reject: { path: 'd/victim', data: 'PWNED' }, kind: 'through-symlink' },
      { reject: { path: 'd/sub/passwd', data: 'PWNED' }, kind: 'through-symlink' },
      { reject: dir('d/newdir', { mode: 0o777 }), kind: 'through-symlink' },
      { reject: { path: 'd/fifo', type: 'fifo' }, kind: 'through-symlink' },
      { reject: sym('d/l', '/'), kind: 'through-symlink' },
    ],
    after: (t, env) => t.equal(fs.readlinkSync(path.join(env.root, 'd')), env.canary, 'the link itself is kept verbatim'),
  },
  {
    id: 'B1b',
    title: 'symlink to /, then a directory and a file through it',
    steps: () => [
      sym('r', '/'),
      { reject: dir('r/etc', { mode: 0o777 }), kind: 'through-symlink' },
      { reject: { path: 'r/etc/passwd', data: 'PWNED' }, kind: 'through-symlink' },
      { reject: hard('r/etc/x', 'r'), kind: 'through-symlink' },
    ],
  },
  {
    id: 'B2',
    title: 'file symlink, then a regular file of the same name',
    steps: (env) => [sym('f', `${env.canary}/victim`), { path: 'f', data: 'PWNED' }],
    after: (t, env) => {
      t.ok(lst(env, 'f').isFile());
      t.equal(readS(env, 'f'), 'PWNED');
    },
  },
  {
    id: 'B3',
    title: 'directory, then a symlink of the same name, then a file through it',
    steps: () => [dir('d'), sym('d', '../canary'), { reject: { path: 'd/cron.d/x', data: 'PWNED' }, kind: 'through-symlink' }],
    after: (t, env) => t.equal(fs.readlinkSync(path.join(env.root, 'd')), '../canary'),
  },
  {
    id: 'B4',
    title: 'chained relative links (cur -> ., par -> cur/..)',
    steps: () => [
      sym('cur', '.'),
      sym('par', 'cur/..'),
      { reject: { path: 'par/canary/victim', data: 'PWNED' }, kind: 'through-symlink' },
      { reject: sym('cur/par', '..'), kind: 'through-symlink' },
    ],
  },
  {
    id: 'B5',
    title: 'symlink chain used by a hard link (CVE-2026-26960 shape)',
    steps: () => [
      sym('a/b/c/up', '../..'),
      sym('a/b/escape', 'c/up/../..'),
      { reject: hard('exfil', 'a/b/escape/canary/victim'), kind: 'bad-hardlink' },
      { reject: hard('exfil', 'a/b/escape/../../canary/victim'), kind: 'unsafe-path' },
      { reject: { path: 'a/b/escape/canary/victim', data: 'PWNED' }, kind: 'through-symlink' },
    ],
  },
  {
    id: 'B6',
    title: 'legitimate system-image links stored verbatim',
    steps: (env) => [sym('etc/localtime', '/usr/share/zoneinfo/UTC'), sym('usr/lib/x', '../../opt/y'), sym('a', '../../../..'), sym('out', `${env.canary}/victim`)],
    after: (t, env) => {
      t.equal(fs.readlinkSync(path.join(env.root, 'a')), '../../../..');
      t.equal(fs.readlinkSync(path.join(env.root, 'out')), `${env.canary}/victim`);
    },
  },
  {
    id: 'B7/H3',
    title: 'root not empty: a pre-existing symlink pointing outside is never traversed',
    prepare: (root, canary) => {
      fs.symlinkSync(canary, path.join(root, 'x'));
      fs.symlinkSync(path.join(canary, 'sub'), path.join(root, 'var'));
    },
    steps: () => [
      { reject: { path: 'x/victim', data: 'PWNED' }, kind: 'through-symlink' },
      { reject: { path: 'x/sub/passwd', data: 'PWNED' }, kind: 'through-symlink' },
      { reject: dir('var/tmp', { mode: 0o1777 }), kind: 'through-symlink' },
      { reject: hard('h', 'x/victim'), kind: 'bad-hardlink' },
      dir('x', { mode: 0o777 }),
      { path: 'x/victim', data: 'inside now' },
    ],
    after: (t, env) => {
      t.ok(lst(env, 'x').isDirectory(), 'a directory entry replaces the link itself');
      t.equal(readS(env, 'x/victim'), 'inside now');
      t.ok(lst(env, 'var').isSymbolicLink());
    },
    afterAbort: 'removals',
  },
  {
    id: 'B8',
    title: 'symlink loops: creating them is harmless, passing through is refused',
    steps: () => [
      sym('a', 'a'),
      { reject: { path: 'a/x', data: 'x' }, kind: 'through-symlink' },
      sym('p', 'q'),
      sym('q', 'p'),
      { reject: { path: 'q/x', data: 'x' }, kind: 'through-symlink' },
    ],
  },
  {
    id: 'B9',
    title: 'symlink target over PATH_MAX, with NUL, or empty rejected',
    steps: () => [
      { reject: sym('l', 'x'.repeat(5000)), kind: 'unsafe-path' },
      { reject: sym('l', 'ok\0/etc'), kind: 'unsafe-path' },
      { reject: sym('l', ''), kind: 'unsafe-path' },
    ],
  },
  {
    id: 'B10',
    title: 'realpath overflow shape: long dirs, step links, hard link through "escape"',
    steps: () => {
      const long = 'd'.repeat(200);
      const steps: Step[] = [];
      let p = '';
      for (let i = 0; i < 15; i++) {
        p += (p ? '/' : '') + long;
        steps.push(dir(p));
        steps.push(sym(`${p}/step`, '.'));
      }
      steps.push(sym('escape', `${p}/step/../../../../../../../../../../../../../../../../..`));
      steps.push({ reject: hard('h', 'escape/canary/victim'), kind: 'bad-hardlink' });
      steps.push({ reject: { path: 'escape/canary/victim', data: 'PWNED' }, kind: 'through-symlink' });
      return steps;
    },
  },
  {
    id: 'B11',
    title: 'symlink, then a directory of the same name with a hostile mode',
    steps: (env) => [sym('d', env.canary), dir('d', { mode: 0o777, uid: 1234 }), { path: 'd/f', data: 'x' }],
    after: (t, env) => {
      t.ok(lst(env, 'd').isDirectory());
      t.equal(lst(env, 'd').mode & 0o7777, 0o777);
    },
  },
  // ------------------------------------------------------------ C. hard links
  {
    id: 'C1',
    title: 'hard link to an absolute path, then a regular file of that name',
    steps: (env) => [
      { reject: hard('h', '/etc/passwd'), kind: 'bad-hardlink' },
      { reject: hard('h2', `${env.canary}/victim`), kind: 'bad-hardlink' },
      { path: 'h', data: 'PWNED' },
    ],
    after: (t, env) => {
      t.equal(readS(env, 'h'), 'PWNED');
      t.equal(lst(env, 'h').nlink, 1);
    },
  },
  {
    id: 'C2',
    title: 'hard link with ..',
    steps: () => [{ reject: hard('h', '../canary/victim'), kind: 'unsafe-path' }, { reject: hard('h', 'a/../../canary/victim'), kind: 'unsafe-path' }],
  },
  {
    id: 'C3',
    title: 'hard link through a symlink',
    steps: () => [sym('sym', '../canary'), { reject: hard('bar', 'sym/victim'), kind: 'bad-hardlink' }],
  },
  {
    id: 'C4',
    title: 'hard link to a pre-existing file refused; a pre-existing hard link is replaced, never written through',
    prepare: (root) => {
      const base = path.dirname(root);
      fs.mkdirSync(path.join(root, 'etc'));
      fs.writeFileSync(path.join(root, 'etc/passwd'), 'pre-existing');
      fs.writeFileSync(path.join(base, 'hl-victim'), 'outside, linked in');
      fs.linkSync(path.join(base, 'hl-victim'), path.join(root, 'pre-hl'));
    },
    steps: () => [
      { reject: hard('h', 'etc/passwd'), kind: 'bad-hardlink' },
      { path: 'h', data: 'x' },
      { path: 'pre-hl', data: 'PWNED' },
      { path: 'etc/passwd', data: 'new' },
    ],
    after: (t, env) => {
      t.equal(fs.readFileSync(path.join(env.base, 'hl-victim'), 'utf8'), 'outside, linked in', 'the outside inode was not written');
      t.equal(readS(env, 'pre-hl'), 'PWNED');
      t.equal(lst(env, 'pre-hl').nlink, 1);
    },
    afterAbort: 'removals',
  },
  {
    id: 'C6',
    title: 'hard link before its target',
    steps: () => [{ reject: hard('h', 'f'), kind: 'bad-hardlink' }, { path: 'f', data: 'x' }, hard('h', 'f')],
  },
  {
    id: 'C7',
    title: 'self hard link skipped with a warning',
    steps: () => [{ path: 'h', data: 'x' }, hard('h', 'h'), hard('./h', '/h')],
    after: (t, env) => {
      t.equal(env.warnings.filter((w) => w.kind === 'self-hardlink').length, 2);
      t.equal(readS(env, 'h'), 'x');
    },
  },
  {
    id: 'C8',
    title: 'hard link to a directory or FIFO refused; to a symlink of this run allowed',
    steps: () => [
      dir('d'),
      { reject: hard('h', 'd'), kind: 'bad-hardlink' },
      { reject: hard('h', '.'), kind: 'bad-hardlink' },
      { path: 'p', type: 'fifo' },
      { reject: hard('h', 'p'), kind: 'bad-hardlink' },
      sym('s', '/etc/shadow'),
      hard('h', 's'),
    ],
    after: (t, env) => {
      t.ok(lst(env, 'h').isSymbolicLink());
      t.equal(fs.readlinkSync(path.join(env.root, 'h')), '/etc/shadow');
    },
  },
  // ------------------------------------------------------------ D. special files, modes
  {
    id: 'D1',
    title: 'character and block devices skipped',
    steps: () => [
      { path: 'etc/mem', type: 'char', devMajor: 1, devMinor: 1, mode: 0o666 },
      { path: 'kmem', type: 'block', devMajor: 8, devMinor: 0, mode: 0o666 },
    ],
    after: (t, env) => {
      t.same(fs.readdirSync(env.root), []);
      t.same(
        env.warnings.map((w) => w.kind),
        ['device-skipped', 'device-skipped'],
      );
    },
  },
  {
    id: 'D2',
    title: 'FIFO created inside a checked directory; socket skipped',
    steps: () => [{ path: 'etc/saf/_cmdpipe', type: 'fifo', mode: 0o644 }, { path: 'sock', type: 'socket' }],
    after: (t, env) => {
      t.ok(lst(env, 'etc/saf/_cmdpipe').isFIFO());
      t.notOk(fs.existsSync(path.join(env.root, 'sock')));
    },
  },
  {
    id: 'D3',
    title: 'setuid on a directory: only through the end-of-run fix-up',
    owners: true,
    steps: () => [dir('sd', { mode: 0o4755, uid: 100 }), { path: 'sd/f', data: 'x', mode: 0o6755, uid: 100, gid: 100 }],
    after: (t, env) => {
      t.equal(lst(env, 'sd').mode & 0o7777, 0o4755);
      t.equal(lst(env, 'sd/f').mode & 0o7777, 0o6755);
    },
  },
  {
    id: 'D5',
    title: 'owners out of range rejected (-1 means "unchanged" to chown)',
    steps: () => [
      { reject: { path: 'f', data: 'x', uid: -1 }, kind: 'bad-owner' },
      { reject: { path: 'f', data: 'x', gid: 4294967295 }, kind: 'bad-owner' },
      { reject: { path: 'f', data: 'x', uid: 2 ** 40 }, kind: 'bad-owner' },
      { reject: { path: 'f', data: 'x', uid: 1.5 }, kind: 'bad-owner' },
    ],
  },
  {
    id: 'D6/D7',
    title: 'restrictive and world-writable dir modes applied only at the end',
    steps: () => [dir('d', { mode: 0 }), { path: 'd/f', data: 'x' }, dir('pub', { mode: 0o777 }), { path: 'pub/f', data: 'y' }],
    after: (t, env) => {
      t.equal(lst(env, 'd').mode & 0o7777, 0);
      t.equal(lst(env, 'pub').mode & 0o7777, 0o777);
    },
  },
  {
    id: 'D8',
    title: 'directory later replaced by a symlink to outside: its fix-up never follows the link',
    steps: (env) => [dir('d', { mode: 0o777, mtime: 1 }), sym('d', env.canary), dir('e', { mode: 0o777 }), { path: 'e/f', data: 'x' }, { reject: sym('e', env.canary), kind: 'not-empty' }],
    after: (t, env) => {
      t.ok(lst(env, 'd').isSymbolicLink());
      t.equal(lst(env, 'e').mode & 0o7777, 0o777);
    },
  },
  {
    id: 'D11',
    title: 'out-of-range timestamps: warning, never a throw',
    steps: () => [{ path: 'nan', data: 'x', mtime: NaN }, { path: 'inf', data: 'x', mtime: Infinity }, { path: 'huge', data: 'x', mtime: 2 ** 62 }],
    after: (t, env) => {
      t.equal(env.warnings.filter((w) => w.kind === 'bad-mtime').length, 3);
      t.equal(readS(env, 'huge'), 'x');
    },
  },
  // ------------------------------------------------------------ H. races and environment
  {
    id: 'H1a',
    title: 'race: a symlink to outside planted at the leaf just before the create',
    backend: (env) => (root) => {
      const real = realFs(root);
      let planted = false;
      return Object.assign(Object.create(real) as RootedFs, {
        createExcl(key: string, mode: number) {
          if (key === 'victim' && !planted) {
            planted = true;
            fs.symlinkSync(path.join(env.canary, 'victim'), path.join(root, 'victim'));
          }
          return real.createExcl(key, mode);
        },
      });
    },
    steps: () => [{ path: 'victim', data: 'PWNED' }],
    after: (t, env) => t.ok(lst(env, 'victim').isFile(), 'the planted link was removed, not followed'),
  },
  {
    id: 'H1b',
    title: 'race: a symlink to outside planted where a parent directory is about to be made',
    backend: (env) => (root) => {
      const real = realFs(root);
      return Object.assign(Object.create(real) as RootedFs, {
        mkdir(key: string, mode: number) {
          if (key === 'etc' && !fs.existsSync(path.join(root, 'etc'))) fs.symlinkSync(env.canary, path.join(root, 'etc'));
          return real.mkdir(key, mode);
        },
      });
    },
    steps: () => [{ reject: { path: 'etc/victim', data: 'PWNED' }, kind: 'through-symlink' }],
    afterAbort: { diff: ['only in second: "etc" (symlink)'], left: 0 },
  },
  {
    id: 'H1c',
    title: 'race: a delayed-link placeholder swapped before finish is detected',
    backend: (env) => (root) => {
      const real = realFs(root);
      return Object.assign(Object.create(real) as RootedFs, {
        lstat(key: string) {
          if (key === 'l' && race.finishing && fs.lstatSync(path.join(root, 'l')).isFile()) {
            fs.unlinkSync(path.join(root, 'l'));
            fs.symlinkSync(env.canary, path.join(root, 'l'));
          }
          return real.lstat(key);
        },
      });
    },
    steps: () => [sym('l', 'harmless')],
    finishRejects: 'placeholder-changed',
    raceAtFinish: true,
    afterAbort: { diff: ['only in second: "l" (symlink)'], left: 1 },
  },
  {
    id: 'H1d',
    title: 'race: a directory swapped for a symlink to outside before its fix-up is left alone',
    backend: (env) => (root) => {
      const real = realFs(root);
      return Object.assign(Object.create(real) as RootedFs, {
        openDir(key: string) {
          if (key === 'd' && race.finishing && fs.lstatSync(path.join(root, 'd')).isDirectory()) {
            fs.rmdirSync(path.join(root, 'd'));
            fs.symlinkSync(env.canary, path.join(root, 'd'));
          }
          return real.openDir(key);
        },
      });
    },
    steps: () => [dir('d', { mode: 0o777, uid: 1234, mtime: 1 })],
    raceAtFinish: true,
    after: (t, env) => t.ok(env.warnings.some((w) => w.kind === 'dir-changed' && w.entry === 'd'), 'warned: metadata not applied'),
    afterAbort: { diff: ['only in second: "d" (symlink)'], left: 1 },
  },
];

for (const anchor of anchors) {
 for (const c of cases) {
  const opts = c.owners && !isRoot ? { skip: 'needs root' } : {};
  t.test(`[${anchor}] ${c.id}: ${c.title}`, opts, async (t) => {
    current = anchor;
    const env = setupEnv(c.prepare);
    t.teardown(env.cleanup);
    const passwd = passwdHash();
    const rootBefore = snapshot(env.root);
    const sink = new FsSink(env.root, { warn: (w) => env.warnings.push(w), owners: c.owners ?? isRoot, anchor, backend: c.backend?.(env) });
    for (const step of c.steps(env)) {
      if ('reject' in step) {
        const err = await expectReject(t, sink, step.reject, step.kind);
        if (err) t.notOk(/[\x00-\x1f]/.test(err.message), 'no control bytes in the message');
        if (err) t.ok(err.message.length < 1200, 'message length bounded');
      } else {
        await sink.write(mkEntry(step));
      }
      t.same(env.outside(), [], 'nothing changed outside the root');
    }
    if (c.finishRejects) {
      race.finishing = true;
      try {
        await t.rejects(sink.finish(), { name: 'ArchiveError', kind: c.finishRejects });
      } finally {
        race.finishing = false;
      }
      t.same(env.outside(), []);
    } else {
      race.finishing = !!c.raceAtFinish;
      try {
        await sink.finish();
      } finally {
        race.finishing = false;
      }
      t.same(env.outside(), [], 'nothing changed outside the root after finish (delayed links, dir fix-ups)');
      t.equal(passwdHash(), passwd, '/etc/passwd untouched');
      c.after?.(t, env);
    }
    const left = await sink.abort();
    const diff = diffTrees(rootBefore, snapshot(env.root));
    if (c.afterAbort === 'removals') {
      t.same(left, [], 'abort removes everything this run created');
      t.ok(diff.length > 0 && diff.every((l) => l.startsWith('only in first:')), `only replaced pre-existing things are missing: ${diff.join('; ')}`);
    } else if (c.afterAbort) {
      t.same(diff, c.afterAbort.diff, 'only what the racing attacker planted remains');
      t.same(left.length, c.afterAbort.left, 'abort reports a path of its own that holds something else');
    } else {
      t.same(left, [], 'abort removes everything this run created');
      t.same(diff, [], 'root back to its prior state after abort');
    }
    t.same(env.outside(), []);
  });
}
}

t.test('proc anchoring: a checked directory swapped for a symlink to outside cannot redirect writes', { skip: ProcFdRootedFs.supported() ? false : 'needs Linux /proc/self/fd' }, async (t) => {
  const env = setupEnv();
  t.teardown(env.cleanup);
  const sink = new FsSink(env.root, { anchor: 'proc', owners: isRoot });
  await sink.write(mkEntry({ path: 'a/b/f1', data: 'first' }));
  // A concurrent attacker (excluded by D-15, the residual risk of the
  // path-based model) renames the checked directory and plants a link.
  fs.renameSync(path.join(env.root, 'a'), path.join(env.root, 'a-moved'));
  fs.symlinkSync(env.canary, path.join(env.root, 'a'));
  await sink.write(mkEntry({ path: 'a/b/victim', data: 'PWNED' }));
  await sink.write(mkEntry({ path: 'a/sub/passwd', data: 'PWNED' })).catch(() => undefined);
  await sink.finish();
  t.same(env.outside(), [], 'nothing reached the canary');
  t.equal(fs.readFileSync(path.join(env.root, 'a-moved/b/victim'), 'utf8'), 'PWNED', 'the write stayed in the directory that was checked');
});
