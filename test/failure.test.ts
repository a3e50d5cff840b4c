// Failure injection on `zonep2v install` (the real CLI, a small sample image:
// makeImage({files: 300, bytes: 1 MiB})): truncated archives, a decompressor
// killed mid-stream, a full file system, SIGTERM and SIGKILL during the
// extraction, and a cleanup that cannot finish. After each, the zone is
// either cleaned (exit 254, no state file, root empty) or marked (exit 255,
// state file "incomplete", the leftovers listed), never silently partial
// (security.md section 4). After SIGKILL the state file says incomplete; a
// re-run without --clean exits 253 ("zone is incomplete; uninstall
// required") and writes nothing; a re-run with --clean installs.

import t, { type Test } from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { makeImage } from '../samples/image.js';
import { packImageReport } from '../samples/pack.js';
import { makeHostRoot } from '../samples/host.js';
import { snapshot, diffTrees, tmpdir } from './lib/tree.js';
import { BIN, runCli } from './lib/cli.js';
import { isRoot, mountTmpfs, noMountReason } from './sink-lib.js';
import { have, bzip2 } from './hostile/gen/compress.js';
import { B, EOA, hdr, pad } from './hostile/gen/tar.js';
import { prng } from './hostile/harness.js';

const SEED = Number(process.env.ZONEP2V_FAILURE_SEED ?? 20261127);
const work = tmpdir('zonep2v-failure-');
const mounts: string[] = [];
t.teardown(() => {
  for (const m of mounts.reverse()) {
    try {
      if (fs.readFileSync('/proc/self/mounts', 'utf8').includes(` ${m} `)) spawnSync('umount', [m]);
    } catch {
      /* already gone */
    }
  }
  fs.rmSync(work, { recursive: true, force: true });
});


const img = path.join(work, 'image');
const host = path.join(work, 'host');
let pax = '';
let gz = '';
let bz = '';

t.before(async () => {
  await makeImage(img, { files: 300, bytes: 1 << 20, seed: 11 });
  const r = await packImageReport(img, path.join(work, 'ar'), ['pax', 'cpio-odc.gz']);
  pax = r.files.pax!;
  gz = r.files['cpio-odc.gz']!;
  makeHostRoot(img, host);
  if (have('bzip2')) {
    // Small blocks, so the decompressor streams output long before the end.
    bz = path.join(work, 'ar', 'image.pax.tar.bz2');
    fs.writeFileSync(bz, bzip2(fs.readFileSync(pax), 1)!);
  }
});

let n = 0;
function zonepath(): string {
  return path.join(work, 'zones', `z${++n}`);
}
function installArgs(zp: string, src: string[], extra: string[] = []): string[] {
  return ['install', 'web1', zp, ...src, '-p', '--host-root', host, '--ip-type', 'shared', '--log', path.join(work, `install-${n}.log`), ...extra];
}
const stateOf = (zp: string): { state: string } | undefined => {
  try {
    return JSON.parse(fs.readFileSync(path.join(zp, '.zonep2v-state'), 'utf8')) as { state: string };
  } catch {
    return undefined;
  }
};

/** Exit 254 with a clean zonepath, or 255 with the marker and the leftovers listed; never anything else. */
function cleanedOrMarked(t: Test, zp: string, code: number | null, stderr: string, want?: 254 | 255): void {
  if (want) t.equal(code, want, `exit ${want}\n${stderr}`);
  if (code === 254) {
    t.equal(stateOf(zp), undefined, '254: no state file');
    t.same(fs.readdirSync(path.join(zp, 'root')), [], '254: the root is empty');
    t.same(fs.readdirSync(zp).filter((f) => f !== 'root'), [], '254: nothing else in the zonepath');
    t.match(stderr, /\*\*\* Installation FAILED \*\*\*/);
  } else if (code === 255) {
    t.equal(stateOf(zp)?.state, 'incomplete', '255: the state file says incomplete');
    t.match(stderr, /cleanup could not remove \d+ path\(s\)/, '255: the leftovers are listed');
  } else {
    t.fail(`exit ${code}: neither cleaned (254) nor marked (255)\n${stderr}`);
  }
}

interface Running {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** The CLI with stdin left open: the test feeds it and decides when to stop. */
function start(args: string[], env: NodeJS.ProcessEnv = process.env): Running {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
  child.stdin.on('error', () => {});
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return { child, stdout: () => out, stderr: () => err, closed };
}

async function waitFor(what: () => boolean, ms = 15_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

/** Wait for exit, killing the process if it hangs. */
async function finish(r: Running, ms = 20_000): Promise<{ code: number | null; signal: NodeJS.Signals | null; hung: boolean }> {
  let hung = false;
  const timer = setTimeout(() => {
    hung = true;
    r.child.kill('SIGKILL');
  }, ms);
  const res = await r.closed;
  clearTimeout(timer);
  return { ...res, hung };
}

const rootHas = (zp: string, k = 1) => {
  try {
    return fs.readdirSync(path.join(zp, 'root')).length >= k;
  } catch {
    return false;
  }
};

/** Pids of the direct children of `pid`, with their command names. */
function childrenOf(pid: number): { pid: number; comm: string }[] {
  const out: { pid: number; comm: string }[] = [];
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const ppid = Number(stat.slice(close + 2).split(' ')[1]);
      if (ppid === pid) out.push({ pid: Number(p), comm: stat.slice(stat.indexOf('(') + 1, close) });
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

t.test('a baseline install of the sample image works', async (t) => {
  const zp = zonepath();
  const r = await runCli(installArgs(zp, ['-a', pax]));
  t.equal(r.code, 0, r.stderr);
  t.equal(stateOf(zp)?.state, 'installed');
});

t.test('truncated archives: cleaned, exit 254', async (t) => {
  const full = fs.readFileSync(pax);
  const rand = prng(SEED);
  const cuts = [512 * Math.floor((full.length * 0.4) / 512), ...Array.from({ length: 3 }, () => 1 + Math.floor(rand() * (full.length - 1030)))];
  for (const cut of cuts) {
    const f = path.join(work, `cut-${cut}.tar`);
    fs.writeFileSync(f, full.subarray(0, cut));
    const zp = zonepath();
    const r = await runCli(installArgs(zp, ['-a', f]));
    t.comment(`cut at ${cut} of ${full.length} (seed ${SEED})`);
    cleanedOrMarked(t, zp, r.code, r.stderr, 254);
    t.match(r.stderr, /unexpected end of input|truncated|ends without/, 'says it is truncated');
  }
});

t.test('a truncated compressed stream: cleaned, exit 254', async (t) => {
  const full = fs.readFileSync(gz);
  const f = path.join(work, 'cut.cpio.gz');
  fs.writeFileSync(f, full.subarray(0, Math.floor(full.length * 0.6)));
  const zp = zonepath();
  const r = await runCli(installArgs(zp, ['-a', f]));
  cleanedOrMarked(t, zp, r.code, r.stderr, 254);
});

t.test('decompressor cut off mid-stream in a command source (gzip -dc | head -c N)', async (t) => {
  const zp = zonepath();
  const r = await runCli(installArgs(zp, ['--command', `gzip -dc '${gz}' | head -c 700000`]));
  cleanedOrMarked(t, zp, r.code, r.stderr, 254);
});

t.test('decompressor process killed mid-stream (SIGKILL to the bzip2 child)', { skip: have('bzip2') ? false : 'bzip2 not installed' }, async (t) => {
  const zp = zonepath();
  const data = fs.readFileSync(bz);
  const decoder = have('lbzip2') ? 'lbzip2' : 'bzip2';
  const r = start(installArgs(zp, ['-a', '-']), { ...process.env, ZONEP2V_BZIP2: decoder });
  r.child.stdin.write(data.subarray(0, data.length >> 1));
  let kid: { pid: number; comm: string } | undefined;
  const ok = await waitFor(() => rootHas(zp) && (kid = childrenOf(r.child.pid!).find((c) => c.comm.includes('bzip2'))) !== undefined);
  t.ok(ok, `extraction started and the ${decoder} child was found`);
  if (kid) process.kill(kid.pid, 'SIGKILL');
  const res = await finish(r);
  r.child.stdin.destroy();
  t.notOk(res.hung, 'exited by itself (no hang on the still-open stdin)');
  cleanedOrMarked(t, zp, res.code, r.stderr(), 254);
  t.match(r.stderr(), /killed by SIGKILL/, 'names the decompressor failure');
});

t.test('full file system: a small tmpfs at the zonepath', { skip: noMountReason || false }, async (t) => {
  t.test('2 MiB: refused before writing (free-space preflight)', async (t) => {
    const zp = zonepath();
    fs.mkdirSync(zp, { recursive: true });
    const um = mountTmpfs(zp, '2m');
    if (typeof um === 'string') {
      t.pass(`skipped: ${um}`);
      return;
    }
    mounts.push(zp);
    t.teardown(um);
    const r = await runCli(installArgs(zp, ['-a', pax]));
    cleanedOrMarked(t, zp, r.code, r.stderr, 254);
    t.match(r.stderr, /available|space/);
  });
  t.test('inodes run out in the middle of the extraction (ENOSPC)', async (t) => {
    const zp = zonepath();
    fs.mkdirSync(zp, { recursive: true });
    const um = mountTmpfs(zp, '64m,nr_inodes=160');
    if (typeof um === 'string') {
      t.pass(`skipped: ${um}`);
      return;
    }
    mounts.push(zp);
    t.teardown(um);
    const r = await runCli(installArgs(zp, ['-a', pax]));
    cleanedOrMarked(t, zp, r.code, r.stderr, 254);
    t.match(r.stderr, /ENOSPC|out of space/);
  });
  t.test('blocks run out in the middle of a file (ENOSPC): no partial file left', async (t) => {
    const zp = zonepath();
    fs.mkdirSync(zp, { recursive: true });
    const um = mountTmpfs(zp, '40m');
    if (typeof um === 'string') {
      t.pass(`skipped: ${um}`);
      return;
    }
    mounts.push(zp);
    t.teardown(um);
    const big = Buffer.alloc(48 << 20, 0x61);
    const f = path.join(work, 'big.tar');
    fs.writeFileSync(f, Buffer.concat([hdr('small', { size: 5 }), pad(B('small')), hdr('big', { size: big.length }), big, EOA]));
    const r = await runCli(installArgs(zp, ['-a', f]));
    cleanedOrMarked(t, zp, r.code, r.stderr, 254);
    t.match(r.stderr, /ENOSPC|out of space/);
  });
  t.end();
});

t.test('SIGTERM during the extraction: cleaned, exit 254', async (t) => {
  const zp = zonepath();
  const data = fs.readFileSync(pax);
  const r = start(installArgs(zp, ['-a', '-'], ['--json']));
  r.child.stdin.write(data.subarray(0, data.length >> 1));
  t.ok(await waitFor(() => r.stdout().includes('"event":"start"') && rootHas(zp, 3)), 'the start event was seen and the root is filling');
  r.child.kill('SIGTERM');
  const res = await finish(r);
  r.child.stdin.destroy();
  t.notOk(res.hung, 'exited by itself after the signal (the stalled stdin read was ended)');
  cleanedOrMarked(t, zp, res.code, r.stderr(), 254);
  t.match(r.stderr(), /interrupted by SIGTERM/);
  const result = r
    .stdout()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { event: string; exit?: number; kind?: string })
    .find((e) => e.event === 'result');
  t.match(result, { exit: 254, kind: 'interrupted' }, 'the JSON result event says so');
});

t.test('SIGKILL during the extraction, then re-runs', async (t) => {
  const zp = zonepath();
  const data = fs.readFileSync(pax);
  const r = start(installArgs(zp, ['-a', '-']));
  r.child.stdin.write(data.subarray(0, data.length >> 1));
  t.ok(await waitFor(() => rootHas(zp, 3)), 'the root is filling');
  r.child.kill('SIGKILL');
  const res = await finish(r);
  r.child.stdin.destroy();
  t.equal(res.signal, 'SIGKILL');
  t.equal(stateOf(zp)?.state, 'incomplete', 'the state file says incomplete');
  t.ok(rootHas(zp), 'partial content is there (marked, not silent)');

  const before = snapshot(zp);
  const stateText = fs.readFileSync(path.join(zp, '.zonep2v-state'), 'utf8');
  const again = await runCli(installArgs(zp, ['-a', pax]));
  t.equal(again.code, 253, `re-run without --clean: 253\n${again.stderr}`);
  t.match(again.stderr, /zone is incomplete; uninstall required/);
  t.same(diffTrees(before, snapshot(zp)), [], 'the re-run wrote nothing in the zonepath');
  t.equal(fs.readFileSync(path.join(zp, '.zonep2v-state'), 'utf8'), stateText, 'state file untouched');

  const clean = await runCli(installArgs(zp, ['-a', pax], ['--clean']));
  t.equal(clean.code, 0, `re-run with --clean installs\n${clean.stderr}`);
  t.equal(stateOf(zp)?.state, 'installed');
  t.equal(fs.readFileSync(path.join(zp, 'root/etc/release'), 'latin1'), fs.readFileSync(path.join(img, 'etc/release'), 'latin1'));
});

t.test('cleanup that cannot finish (a file system mounted in the root): exit 255, marked, then --clean', { skip: noMountReason || false }, async (t) => {
  const zp = zonepath();
  const data = fs.readFileSync(pax);
  const r = start(installArgs(zp, ['-a', '-']));
  r.child.stdin.write(data.subarray(0, data.length >> 1));
  let mp = '';
  const ok = await waitFor(() => {
    if (!rootHas(zp, 2)) return false;
    // The sink's temporary names (.zonep2v-fifo-*) come and go under our feet.
    const isDir = (x: string) => {
      try {
        return fs.lstatSync(path.join(zp, 'root', x)).isDirectory();
      } catch {
        return false;
      }
    };
    const d = fs.readdirSync(path.join(zp, 'root')).find(isDir);
    if (d) mp = path.join(zp, 'root', d);
    return !!d;
  });
  t.ok(ok, 'a directory of this run exists in the root');
  const um = mountTmpfs(mp, '1m');
  if (typeof um === 'string') {
    r.child.kill('SIGKILL');
    t.pass(`skipped: ${um}`);
    return;
  }
  mounts.push(mp);
  // The input ends here: a truncated archive, so the install fails and cleans up.
  r.child.stdin.end();
  const res = await finish(r);
  cleanedOrMarked(t, zp, res.code, r.stderr(), 255);
  t.ok(r.stderr().includes(path.basename(mp)), 'the mount point is among the leftovers listed');

  const again = await runCli(installArgs(zp, ['-a', pax]));
  t.equal(again.code, 253, `re-run without --clean: 253\n${again.stderr}`);
  t.match(again.stderr, /zone is incomplete; uninstall required/);

  const stuck = await runCli(installArgs(zp, ['-a', pax], ['--clean']));
  t.not(stuck.code, 0, '--clean cannot empty the root while something is mounted there');
  t.equal(stateOf(zp)?.state, 'incomplete', 'and the zone stays marked incomplete');
  t.not(stuck.code, 254, 'not reported as cleaned (254)');

  um();
  const clean = await runCli(installArgs(zp, ['-a', pax], ['--clean']));
  t.equal(clean.code, 0, `after unmounting, --clean installs\n${clean.stderr}`);
  t.equal(stateOf(zp)?.state, 'installed');
});

t.test('root check', async (t) => {
  t.comment(isRoot ? 'running as root' : 'not root: the tmpfs cases were skipped');
  t.pass();
});
