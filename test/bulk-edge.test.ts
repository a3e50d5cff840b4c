// `zonep2v bulk`, the edges an operator meets: plans a spreadsheet wrote,
// zonepaths that belong to another zone, two runs at once.

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { tmpdir } from './lib/tree.js';
import { runCli } from './lib/cli.js';
import { parsePlan, PlanError } from '../src/bulk/plan.js';
import { parseCsv } from '../src/bulk/csv.js';

const work = tmpdir('zonep2v-bulk-edge-');
t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));

t.test('a NUL byte in the plan (a UTF-16 plan) is a plan problem: 253, not a crash', async (t) => {
  const dir = path.join(work, 'nul');
  fs.mkdirSync(dir);
  const logs = path.join(dir, 'logs');
  const archive = path.join(dir, 'a.flar');
  fs.writeFileSync(archive, 'x');
  const nulPlan = path.join(dir, 'nul.csv');
  fs.writeFileSync(nulPlan, `zone,zonepath,source,identity\nw1,"${dir}/zones/w\0",${archive},u\n`);
  let r = await runCli(['bulk', nulPlan, '--log-dir', logs]);
  t.equal(r.code, 253, r.stderr);
  t.match(r.stderr, /line 2: the plan holds a NUL byte; save it as plain UTF-8 text/);
  t.notMatch(r.stderr, /TypeError|at /);

  const utf16 = path.join(dir, 'utf16.csv');
  fs.writeFileSync(utf16, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`zone,zonepath,source,identity\r\nw1,${dir}/zones/w1,${archive},u\r\n`, 'utf16le')]));
  r = await runCli(['bulk', utf16, '--log-dir', logs]);
  t.equal(r.code, 253, r.stderr);
  t.match(r.stderr, /line 1: the plan holds a NUL byte; save it as plain UTF-8 text/);
  t.notOk(fs.existsSync(logs), 'nothing written');
  t.notOk(fs.existsSync(path.join(dir, 'zones')), 'nothing written');

  const e = t.throws(() => parsePlan('[{"zone": "a", "zonepath": "/z/a", "source": "x\\u0000", "identity": "u"}]', '/p.json')) as unknown as PlanError;
  t.match(e.problems, [/zones\[0\] \(a\): source holds a NUL byte/], "a JSON \\u0000 escape too");
  t.ok(e instanceof PlanError);
});

t.test('a zonepath whose state file names another zone is a plan problem, not a skip', async (t) => {
  const dir = path.join(work, 'other-zone');
  const logs = path.join(dir, 'logs');
  const archive = path.join(dir, 'a.flar');
  const zp = (n: string) => path.join(dir, 'zones', n);
  fs.mkdirSync(path.join(zp('web1'), 'root'), { recursive: true });
  fs.mkdirSync(path.join(zp('web2'), 'root'), { recursive: true });
  fs.writeFileSync(archive, 'x');
  const state = (zone: string, st: string) => JSON.stringify({ state: st, zone, source: archive, started: '2020-01-01T00:00:00.000Z', pid: 0 });
  fs.writeFileSync(path.join(zp('web1'), '.zonep2v-state'), state('web1', 'installed'));
  fs.writeFileSync(path.join(zp('web2'), '.zonep2v-state'), state('web2', 'incomplete'));
  const plan = path.join(dir, 'plan.csv');
  // A typo: web9 at web1's zonepath, web8 at web2's.
  fs.writeFileSync(plan, `zone,zonepath,source,identity\nweb9,${zp('web1')},${archive},u\nweb8,${zp('web2')},${archive},u\n`);
  const r = await runCli(['bulk', plan, '--log-dir', logs]);
  t.equal(r.code, 253, `${r.stdout}${r.stderr}`);
  t.match(r.stderr, new RegExp(`line 2 \\(web9\\): zonepath ${zp('web1')} holds zone web1 \\(installed\\), not web9`));
  t.match(r.stderr, new RegExp(`line 3 \\(web8\\): zonepath ${zp('web2')} holds zone web2 \\(incomplete\\), not web8`));
  t.notOk(fs.existsSync(logs), 'nothing started');
  t.equal(JSON.parse(fs.readFileSync(path.join(zp('web2'), '.zonep2v-state'), 'utf8')).zone, 'web2', 'the other zone left alone');
});

t.test('a second bulk run on the same log directory is refused while the first runs; a dead run\'s lock is taken over', async (t) => {
  const dir = path.join(work, 'lock');
  const logs = path.join(dir, 'logs');
  const archive = path.join(dir, 'a.flar');
  const zp = path.join(dir, 'zones', 'w1');
  fs.mkdirSync(path.join(zp, 'root'), { recursive: true });
  fs.mkdirSync(logs, { recursive: true });
  fs.writeFileSync(archive, 'x');
  fs.writeFileSync(path.join(zp, '.zonep2v-state'), JSON.stringify({ state: 'installed', zone: 'w1', source: archive, started: '2020-01-01T00:00:00.000Z', pid: 0 }));
  const w2 = path.join(dir, 'zones', 'w2');
  const plan = path.join(dir, 'plan.csv');
  fs.writeFileSync(plan, `zone,zonepath,source,identity\nw1,${zp},${archive},u\nw2,${w2},${archive},u\n`);
  // A bulk run still going: a live node process holds the lock.
  const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  t.teardown(() => holder.kill('SIGKILL'));
  await new Promise((r) => holder.once('spawn', r));
  const lock = path.join(logs, 'bulk.lock');
  fs.writeFileSync(lock, JSON.stringify({ pid: holder.pid, started: new Date(Date.now() + 2000).toISOString() }));
  let r = await runCli(['bulk', plan, '--log-dir', logs]);
  t.equal(r.code, 253, `${r.stdout}${r.stderr}`);
  t.match(r.stderr, new RegExp(`another zonep2v bulk \\(pid ${holder.pid}, .*\\) is using the log directory ${logs}`));
  t.notOk(fs.existsSync(w2), 'w2 not started');
  t.notOk(fs.existsSync(path.join(logs, 'bulk-status.json')), 'no results recorded');
  t.ok(fs.existsSync(lock), 'the running one keeps its lock');

  // The holder dies (SIGKILL leaves the lock): the next run takes it over, and lets it go at the end.
  holder.kill('SIGKILL');
  await new Promise((r) => holder.once('close', r));
  fs.rmSync(w2, { recursive: true, force: true });
  fs.writeFileSync(plan, `zone,zonepath,source,identity\nw1,${zp},${archive},u\n`);
  r = await runCli(['bulk', plan, '--log-dir', logs]);
  t.equal(r.code, 0, `${r.stdout}${r.stderr}`);
  t.match(r.stdout, /^w1\s+skipped \(installed\)/m);
  t.notOk(fs.existsSync(lock), 'lock released');
});

t.test('zonepaths inside others: every depth, not a name that merely starts the same; a 20 000-zone plan', async (t) => {
  const e = t.throws(() =>
    parsePlan(['zone,zonepath,source,identity', 'a,/z/a,x,u', 'b,/z/a-b,x,u', 'c,/z/a/x/y/c,x,u', 'd,/z/ab/d,x,u', 'e,/z/a-b/e,x,u'].join('\n'), '/p.csv'),
  ) as unknown as PlanError;
  t.same(e.problems, [
    'line 4 (c): zonepath /z/a/x/y/c is inside the zonepath of line 2 (a) (/z/a)',
    'line 6 (e): zonepath /z/a-b/e is inside the zonepath of line 3 (b) (/z/a-b)',
  ]);
  const rows = ['zone,zonepath,source,identity'];
  for (let i = 0; i < 20_000; i++) rows.push(`z${i},/zones/${i % 100}/z${i},cmd:cat x${i},u`);
  t.equal(parsePlan(rows.join('\n'), '/p.csv').zones.length, 20_000);
  rows.push('zin,/zones/7/z7/inner,cmd:cat y,u');
  t.throws(() => parsePlan(rows.join('\n'), '/p.csv'), /line 20002 \(zin\): zonepath \/zones\/7\/z7\/inner is inside the zonepath of line 9 \(z7\)/);
});

t.test('CSV: lines of only spaces or tabs, and indented comments, are skipped like blank and comment lines', async (t) => {
  t.same(parseCsv('a,b\n   \n\t# note\r\n  \t\r\nc,d\n  '), [
    { line: 1, fields: ['a', 'b'] },
    { line: 5, fields: ['c', 'd'] },
  ]);
  t.same(parseCsv('a, "b"\n  c,d'), [
    { line: 1, fields: ['a', 'b'] },
    { line: 2, fields: ['c', 'd'] },
  ], 'a record that starts with blanks is still a record');
  const plan = parsePlan('zone,zonepath,source,identity\n  # wave 1\nweb1,/z/web1,x,u\n \n', '/p/plan.csv');
  t.same(plan.zones.map((z) => z.where), ['line 3 (web1)']);
});
