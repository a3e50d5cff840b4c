// Memory of the dump parser follows the directory table, not the data: a
// synthetic dump of 200,000 files in 1,000 directories (about 230 MB of
// records, generated while it is read, never stored) is parsed with every
// body read, and the resident set, sampled as entries go by, must stay
// under 150 MiB. The parse runs in a child process without tap's loaders
// and coverage (test/lib/dump-mem-child.ts), so the number is the parser's.
// No timing is asserted.

import t from 'tap';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MiB = 1024 * 1024;
const child = path.join(path.dirname(fileURLToPath(import.meta.url)), 'lib', 'dump-mem-child.js');

t.test('200k files: peak RSS under 150 MiB', async (t) => {
  const dirs = 1000;
  const perDir = 200;
  // env(1) drops the coverage loader tap would add to a node child
  const r = spawnSync('env', ['-u', 'NODE_OPTIONS', '-u', 'NODE_V8_COVERAGE', process.execPath, child, String(dirs), String(perDir)], { encoding: 'utf8', maxBuffer: 1 << 20 });
  t.equal(r.status, 0, r.stderr);
  const res = JSON.parse(r.stdout) as { dirs: number; files: number; bytes: number; last: string; startRss: number; peakRss: number };
  t.equal(res.dirs, dirs + 1, 'every directory (and the root)');
  t.equal(res.files, dirs * perDir, 'every file');
  t.equal(res.bytes, ((dirs * perDir) / 10) * 100, 'every body byte');
  t.equal(res.last, `d${dirs - 1}/file-${dirs - 1}-${perDir - 1}.txt`);
  t.ok(res.peakRss < 150 * MiB, `peak RSS ${(res.peakRss / MiB).toFixed(1)} MiB (started at ${(res.startRss / MiB).toFixed(1)} MiB)`);
});
