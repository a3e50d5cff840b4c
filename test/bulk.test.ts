// `zonep2v bulk`: the plan reader (CSV and JSON), the whole-plan check (253,
// nothing started), and end to end with the real CLI: six zones from mixed
// sources with --jobs 2, two failing on purpose, then the re-run after the
// plan is fixed; the --clean retry of an incomplete zone; SIGTERM.

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { makeImage } from '../samples/image.js';
import { packImageReport } from '../samples/pack.js';
import { makeHostRoot } from '../samples/host.js';
import { tmpdir } from './lib/tree.js';
import { BIN, fakeSolarisBin, runCli } from './lib/cli.js';
import { parsePlan, PlanError, installArgv } from '../src/bulk/plan.js';
import { parseCsv } from '../src/bulk/csv.js';
import { LiveTable, formatSummary, totals } from '../src/bulk/table.js';
import type { ZoneView } from '../src/bulk/runner.js';

const work = tmpdir('zonep2v-bulk-');
t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));

const img = path.join(work, 'image');
const host = path.join(work, 'host');
const arch = path.join(work, 'archives');
let flar = '';
let gz = '';

t.before(async () => {
  await makeImage(img, { files: 300, bytes: 1024 * 1024, seed: 5 });
  const r = await packImageReport(img, arch, ['flar', 'cpio-odc.gz']);
  flar = r.files.flar!;
  gz = r.files['cpio-odc.gz']!;
  makeHostRoot(img, host);
});

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const csvField = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
const csv = (rows: string[][]) => rows.map((r) => r.map(csvField).join(',')).join('\n') + '\n';

interface Ev {
  event: string;
  zone: string | null;
  time: string;
  [k: string]: unknown;
}
const events = (stdout: string): Ev[] =>
  stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Ev);

// ---------------------------------------------------------------- plan reading

t.test('CSV plan: columns, quoting, comments, source kinds, relative paths', async (t) => {
  const text = [
    '# zones of the Paris data centre',
    'Zone, ZonePath ,source,identity,IP_Type,net,host-root,attach_command,backout,lenient',
    'web1,/zones/web1,archives/web1.flar,u,shared,,/,,,',
    '',
    '"web2","/zones/web2","cmd:ssh legacy07 \'flarcreate -n l7 -S -\' | gzip -dc",p,exclusive,"e1000g1 physical=e1000g2",hostroot,"echo ""attach"", done",123456-01;123457-02,yes',
    'db1,/zones/db1/,dir:/mnt/db1,preserve,,,,,,no',
    '# a comment between rows',
    'db2,/zones/db2,"cmd:sh -c \'printf ""a\nb"" \'",U,,,,,,',
  ].join('\r\n');
  const plan = parsePlan(text, '/plans/paris/plan.csv');
  t.equal(plan.format, 'csv');
  t.equal(plan.baseDir, '/plans/paris');
  t.same(
    plan.zones.map((z) => [z.zone, z.zonepath, z.source.kind, z.source.value, z.identity]),
    [
      ['web1', '/zones/web1', 'archive', '/plans/paris/archives/web1.flar', 'u'],
      ['web2', '/zones/web2', 'command', "ssh legacy07 'flarcreate -n l7 -S -' | gzip -dc", 'p'],
      ['db1', '/zones/db1', 'dir', '/mnt/db1', 'p'],
      ['db2', '/zones/db2', 'command', `sh -c 'printf "a\nb" '`, 'u'],
    ],
  );
  const web2 = plan.zones[1]!;
  t.equal(web2.ipType, 'exclusive');
  t.same(web2.net, ['e1000g1', 'e1000g2']);
  t.equal(web2.hostRoot, '/plans/paris/hostroot', 'relative paths from the plan directory');
  t.equal(web2.attachCommand, 'echo "attach", done', 'doubled quotes and commas inside a quoted field');
  t.same(web2.backout, ['123456-01', '123457-02']);
  t.equal(web2.lenient, true);
  t.equal(plan.zones[0]!.where, 'line 3 (web1)', 'rows are named by their line');
  t.equal(plan.zones[2]!.where, 'line 6 (db1)');
  t.same(installArgv(web2, '/logs/web2.log', false), [
    'install', 'web2', '/zones/web2', '--command', "ssh legacy07 'flarcreate -n l7 -S -' | gzip -dc", '-p',
    '--ip-type', 'exclusive', '--net', 'physical=e1000g1', '--net', 'physical=e1000g2',
    '--host-root', '/plans/paris/hostroot', '--attach-command', 'echo "attach", done',
    '-b', '123456-01', '-b', '123457-02', '--lenient', '--json', '--log', '/logs/web2.log',
  ]);
  t.same(installArgv(plan.zones[2]!, '/l', true).slice(3, 6), ['-d', '/mnt/db1', '-p']);
  t.ok(installArgv(plan.zones[2]!, '/l', true).includes('--clean'));

  t.same(parseCsv('a,"b\n""c""",  d  \n\n#x\ne'), [
    { line: 1, fields: ['a', 'b\n"c"', 'd'] },
    { line: 5, fields: ['e'] },
  ]);
  t.throws(() => parseCsv('a,"b\n'), /line 1: a quoted field is not closed/);
  t.throws(() => parseCsv('a,b"c"'), /quote in the middle/);
});

t.test('JSON plan: array or defaults + zones, same meaning as CSV', async (t) => {
  const json = JSON.stringify({
    defaults: { identity: 'u', 'host-root': '/', source: 'cmd:false' },
    zones: [
      { zone: 'a', zonepath: '/z/a', source: 'a.flar' },
      { zone: 'b', zonepath: '/z/b', command: 'cat b.cpio', identity: 'p', net: ['e1000g3'], ip_type: 'exclusive', lenient: true },
      { zone: 'c', zonepath: '/z/c' },
    ],
  });
  const plan = parsePlan(`\n  ${json}`, '/p/plan.json');
  t.equal(plan.format, 'json');
  t.same(
    plan.zones.map((z) => [z.zone, z.source.kind, z.source.value, z.identity, z.hostRoot]),
    [
      ['a', 'archive', '/p/a.flar', 'u', '/'],
      ['b', 'command', 'cat b.cpio', 'p', '/'],
      ['c', 'command', 'false', 'u', '/'],
    ],
    'defaults fill in; a zone source (any kind) replaces the default source',
  );
  t.same(plan.zones[1]!.net, ['e1000g3']);
  t.equal(plan.zones[1]!.lenient, true);
  const arr = parsePlan(JSON.stringify([{ zone: 'a', zonepath: '/z/a', dir: 'tree', identity: 'p' }]), '/p/x.json');
  t.same(arr.zones[0]!.source, { kind: 'dir', value: '/p/tree' });
});

t.test('plan problems are all reported at once', async (t) => {
  const text = csv([
    ['zone', 'zonepath', 'source', 'identity', 'ip-type', 'net', 'colour'],
    ['web1', '/zones/web1', 'a.flar', 'u', '', '', ''],
    ['web1', '/zones/web1b', 'a.flar', 'u', '', '', ''],
    ['web2', '/zones/web1', 'a.flar', 'p', '', '', ''],
    ['web3', '/zones/web1/inner', 'a.flar', 'p', '', '', ''],
    ['web4', 'zones/web4', '-', 'x', 'both', '', ''],
    ['', '/zones/web5', '', '', '', '', ''],
    ['we b6', '/zones/web6', 'dir:-', 'u', 'shared', 'e1000g0', ''],
  ]);
  const e = t.throws(() => parsePlan(text, '/p/plan.csv')) as unknown as PlanError;
  t.ok(e instanceof PlanError);
  const all = e.problems.join('\n');
  for (const re of [
    /line 1: unknown column "colour"/,
    /line 3 \(web1\): zone web1 is already in the plan \(line 2 \(web1\)\)/,
    /line 4 \(web2\): zonepath \/zones\/web1 is also the zonepath of line 2/,
    /line 5 \(web3\): zonepath \/zones\/web1\/inner is inside the zonepath of line 2/,
    /line 6 \(web4\): the zonepath must be absolute/,
    /line 6 \(web4\): "-" \(stdin\) cannot be a bulk source/,
    /line 6 \(web4\): identity must be u \(sys-unconfig\) or p \(preserve\), not "x"/,
    /line 6 \(web4\): ip-type must be shared or exclusive, not "both"/,
    /line 7: zone is missing/,
    /line 7: the source is missing/,
    /line 7: identity is missing/,
    /line 8 \(we b6\): invalid zone name/,
    /line 8 \(we b6\): "-" \(stdin\) cannot be a bulk source/,
    /line 8 \(we b6\): net resources are for exclusive-IP zones/,
  ]) t.match(all, re);
  t.throws(() => parsePlan('{"zones": [{"zone": "a", "zonepath": "/a", "source": "x", "identity": "u", "archive": "y"}]}', '/p.json'), /give one source, not source and archive/);
  t.throws(() => parsePlan('{"zones": [}', '/p.json'), /looks like JSON but does not parse/);
  t.throws(() => parsePlan('# nothing\n', '/p.csv'), /the plan has no zones/);
  t.throws(() => parsePlan('zone,source\na,b\n', '/p.csv'), /must include zone and zonepath/);
  t.throws(() => parsePlan('[{"zone": "a", "zonepath": "/a", "source": "x", "identity": "u", "backout": "12-1"}]', '/p.json'), /backout "12-1": a patch id looks like 123456-01/);
  t.throws(() => parsePlan('[{"zone": "a", "zonepath": "/a", "source": "x", "identity": "u", "host-root": "/", "host-manifest": "m.xml"}]', '/p.json'), /host-root or host-manifest, not both/);
});

t.test('an invalid plan exits 253 and starts nothing', async (t) => {
  const dir = path.join(work, 'invalid');
  fs.mkdirSync(dir);
  const zp = (n: string) => path.join(dir, 'zones', n);
  const logs = path.join(dir, 'logs');
  // Syntax and value problems.
  fs.writeFileSync(
    path.join(dir, 'bad.csv'),
    csv([
      ['zone', 'zonepath', 'source', 'identity', 'ip-type'],
      ['ok1', zp('ok1'), flar, 'u', 'shared'],
      ['ok1', zp('ok2'), flar, 'u', 'shared'],
      ['ok3', zp('ok3'), '-', 'u', 'shared'],
    ]),
  );
  let r = await runCli(['bulk', path.join(dir, 'bad.csv'), '--log-dir', logs]);
  t.equal(r.code, 253, r.stderr);
  t.match(r.stderr, /the plan is not valid \(2 problems\); nothing was started/);
  t.match(r.stderr, /line 3 \(ok1\): zone ok1 is already in the plan/);
  t.match(r.stderr, /line 4 \(ok3\): "-" \(stdin\) cannot be a bulk source/);
  // Problems only the filesystem shows: a missing archive, a directory given as an archive, a zone root with data.
  fs.mkdirSync(path.join(zp('full'), 'root'), { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(zp('full'), 'root', 'junk'), 'x');
  fs.writeFileSync(
    path.join(dir, 'missing.json'),
    JSON.stringify({
      defaults: { identity: 'p', 'ip-type': 'shared', 'host-root': host },
      zones: [
        { zone: 'ok1', zonepath: zp('ok1'), source: flar },
        { zone: 'gone', zonepath: zp('gone'), source: 'no-such.flar' },
        { zone: 'tree', zonepath: zp('tree'), source: img },
        { zone: 'full', zonepath: zp('full'), source: flar },
        { zone: 'nodir', zonepath: zp('nodir'), dir: 'no-such-dir' },
      ],
    }),
  );
  r = await runCli(['bulk', path.join(dir, 'missing.json'), '--log-dir', logs, '--jobs', '2']);
  t.equal(r.code, 253, r.stderr);
  t.match(r.stderr, new RegExp(`zones\\[1\\] \\(gone\\): archive ${dir}/no-such.flar: no such file or directory`));
  t.match(r.stderr, /zones\[2\] \(tree\): archive .* is a directory \(write dir:PATH/);
  t.match(r.stderr, /zones\[3\] \(full\): zone root .* contains data/);
  t.match(r.stderr, /zones\[4\] \(nodir\): source directory .*no-such-dir: no such file or directory/);
  t.notOk(fs.existsSync(zp('ok1')), 'no zonepath created');
  t.notOk(fs.existsSync(logs), 'no log directory created');
  t.same(fs.readdirSync(path.join(zp('full'), 'root')), ['junk'], 'the full root untouched');
  // Bad options.
  r = await runCli(['bulk', path.join(dir, 'missing.json'), '--jobs', '0']);
  t.equal(r.code, 253);
  t.match(r.stderr, /--jobs must be a whole number/);
  r = await runCli(['bulk']);
  t.equal(r.code, 253);
  t.match(r.stderr, /the plan file is missing/);
  r = await runCli(['bulk', path.join(dir, 'bad.csv'), '--retry-failed-only', '--log-dir', logs]);
  t.equal(r.code, 253);
  r = await runCli(['bulk', '--help']);
  t.equal(r.code, 0);
  t.match(r.stdout, /cmd:COMMAND/);
});

// ---------------------------------------------------------------- end to end

t.test('six zones from mixed sources, --jobs 2, two failing; then the re-run', async (t) => {
  const dir = path.join(work, 'e2e');
  fs.mkdirSync(dir);
  const fake = fakeSolarisBin(path.join(dir, 'bin'));
  const zp = (n: string) => path.join(dir, 'zones', n);
  const logs = path.join(dir, 'logs');
  const truncated = path.join(dir, 'truncated.flar');
  fs.writeFileSync(truncated, fs.readFileSync(flar).subarray(0, 600_000));
  const header = ['zone', 'zonepath', 'source', 'identity', 'ip-type', 'host-root'];
  const good = [
    ['a-file', zp('a-file'), flar, 'u', 'shared', host],
    ['b-gzip', zp('b-gzip'), `cmd:gzip -dc ${q(gz)}`, 'p', 'shared', host],
    ['c-pipe', zp('c-pipe'), `cmd:cd ${q(img)} && find . -depth -print | cpio -o -H newc --quiet`, 'u', 'shared', host],
    ['d-dir', zp('d-dir'), `dir:${img}`, 'p', 'shared', host],
  ];
  const failing = [
    ['e-cmd', zp('e-cmd'), `cmd:head -c 400000 ${q(flar)}; echo 'ssh: connection reset by peer' >&2; exit 1`, 'u', 'shared', host],
    ['f-trunc', zp('f-trunc'), 'truncated.flar', 'u', 'shared', host],
  ];
  const planFile = path.join(dir, 'plan.csv');
  fs.writeFileSync(planFile, csv([header, ...good, ...failing]));

  const r = await runCli(['bulk', planFile, '--jobs', '2', '--json', '--log-dir', logs], { env: fake.env });
  t.equal(r.code, 1, `exit 1 when a zone failed\n${r.stderr}`);
  const evs = events(r.stdout);
  const byZone = new Map(evs.filter((e) => e.event === 'bulk-zone').map((e) => [e.name as string, e]));
  for (const [name] of good) {
    t.equal(byZone.get(name)?.result, 'installed', `${name} installed`);
    t.equal(JSON.parse(fs.readFileSync(path.join(zp(name), '.zonep2v-state'), 'utf8')).state, 'installed', `${name}: state installed`);
    t.ok(fs.existsSync(path.join(zp(name), 'root/etc/vfstab')), `${name}: root populated`);
    t.ok(fs.readdirSync(path.join(zp(name), 'root')).length > 10, `${name}: root has the image's top directories`);
    t.ok(fake.calls().includes(`zoneadm -z ${name} attach -U`), `${name}: handed over (zoneadm attach)`);
    t.match(fs.readFileSync(path.join(logs, `${name}.log`), 'utf8'), /Installation completed successfully/, `${name}: its own log`);
  }
  for (const [name] of failing) {
    const ev = byZone.get(name)!;
    t.equal(ev.result, 'failed', `${name} failed`);
    t.equal(ev.exit, 254, `${name}: exit 254 (cleaned, retry)`);
    t.notOk(fs.existsSync(path.join(zp(name), '.zonep2v-state')), `${name}: no state file`);
    const root = path.join(zp(name), 'root');
    t.same(fs.existsSync(root) ? fs.readdirSync(root) : [], [], `${name}: root empty`);
    t.match(fs.readFileSync(path.join(logs, `${name}.log`), 'utf8'), /Installation FAILED/);
  }
  t.match(byZone.get('e-cmd')!.message, /source command exited with status 1: ssh: connection reset by peer/);
  t.match(byZone.get('f-trunc')!.message, /unexpected end of input/);
  // The installs' own events come through, each naming its zone.
  const starts = evs.filter((e) => e.event === 'start').map((e) => e.zone).sort();
  t.same(starts, ['a-file', 'b-gzip', 'c-pipe', 'd-dir', 'e-cmd', 'f-trunc'], 'every install started once');
  // Never more than two at once (from the installs' own start/result times), and two did overlap.
  const spans = starts.map((z) => {
    const mine = evs.filter((e) => e.zone === z);
    return [Date.parse(mine.find((e) => e.event === 'start')!.time), Date.parse(mine.find((e) => e.event === 'result')!.time)] as const;
  });
  const overlap = Math.max(...spans.map(([s]) => spans.filter(([a, b]) => a <= s && s <= b).length));
  t.ok(overlap <= 2, `at most 2 installs at once (saw ${overlap})`);
  const result = evs.find((e) => e.event === 'bulk-result')!;
  t.equal(result.peakJobs, 2, 'two installs ran at the same time');
  t.equal(result.installed, 4);
  t.equal(result.failed, 2);
  t.ok((result.zonesPerMinute as number) > 0 && (result.mbPerSecond as number) > 0, 'throughput figures');
  // The summary (stderr with --json): a line per zone, the error message, the totals.
  t.match(r.stderr, /^e-cmd\s+failed\s+254\s+\d+\.\ds\s+\d+\.\d\s+at offset 400000: source command exited with status 1: ssh: connection reset by peer/m);
  t.match(r.stderr, /^a-file\s+installed\s+0\s+\d+\.\ds\s+1\.\d$/m);
  t.match(r.stderr, /6 zones: 4 installed, 2 failed, 0 skipped in [\d.]+ s; [\d.]+ zones\/minute, [\d.]+ MB\/s/);
  t.match(r.stderr, /\d\d:\d\d:\d\d f-trunc: FAILED \(exit 254\)/, 'one line per state change when stderr is not a terminal');
  const status = JSON.parse(fs.readFileSync(path.join(logs, 'bulk-status.json'), 'utf8'));
  t.equal(status.zones['e-cmd'].result, 'failed');
  t.equal(status.zones['a-file'].result, 'installed');

  // Fix the plan and run again: only the two failed zones are installed.
  const fixed = [
    ['e-cmd', zp('e-cmd'), `cmd:cat ${q(flar)} | cat`, 'u', 'shared', host],
    ['f-trunc', zp('f-trunc'), flar, 'u', 'shared', host],
  ];
  fs.writeFileSync(planFile, csv([header, ...good, ...fixed]));
  const r2 = await runCli(['bulk', planFile, '--jobs', '2', '--log-dir', logs], { env: fake.env });
  t.equal(r2.code, 0, r2.stderr);
  for (const [name] of good) t.match(r2.stdout, new RegExp(`^${name}\\s+skipped \\(installed\\)\\s+-`, 'm'), `${name} skipped`);
  for (const [name] of fixed) {
    t.match(r2.stdout, new RegExp(`^${name}\\s+installed\\s+0\\s`, 'm'), `${name} installed on the re-run`);
    t.equal(JSON.parse(fs.readFileSync(path.join(zp(name), '.zonep2v-state'), 'utf8')).state, 'installed');
    t.ok(fs.existsSync(path.join(zp(name), 'root/etc/vfstab')));
  }
  t.match(r2.stdout, /6 zones: 2 installed, 0 failed, 4 skipped/);
  t.equal(fake.calls().filter((c) => c.startsWith('zoneadm')).length, 6, 'each zone attached once over both runs');

  // --retry-failed-only: a zone new to the plan did not fail before, so it is left alone.
  fs.writeFileSync(planFile, csv([header, ...good, ...fixed, ['g-new', zp('g-new'), flar, 'u', 'shared', host]]));
  const r3 = await runCli(['bulk', planFile, '--retry-failed-only', '--log-dir', logs], { env: fake.env });
  t.equal(r3.code, 0, r3.stderr);
  t.match(r3.stdout, /^g-new\s+skipped \(did not fail last run\)/m);
  t.notOk(fs.existsSync(zp('g-new')), 'g-new not touched');
});

t.test('a zone an earlier run left incomplete is retried with --clean', async (t) => {
  const dir = path.join(work, 'clean');
  fs.mkdirSync(dir);
  const zp = path.join(dir, 'zones', 'w1');
  fs.mkdirSync(path.join(zp, 'root', 'etc'), { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(zp, 'root', 'etc', 'half-written'), 'x');
  // The state an install killed with SIGKILL leaves: incomplete, its pid gone.
  const dead = spawn(process.execPath, ['-e', '0']);
  await new Promise((r) => dead.on('close', r));
  fs.writeFileSync(path.join(zp, '.zonep2v-state'), JSON.stringify({ state: 'incomplete', zone: 'w1', source: flar, started: new Date().toISOString(), pid: dead.pid }));
  const plan = path.join(dir, 'plan.json');
  fs.writeFileSync(plan, JSON.stringify([{ zone: 'w1', zonepath: zp, source: flar, identity: 'u', 'ip-type': 'shared', 'host-root': host }]));
  const r = await runCli(['bulk', plan, '--log-dir', path.join(dir, 'logs')], { env: { ...process.env, PATH: '/usr/bin:/bin' } });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /w1: starting \(archive .*\) with --clean: an earlier install left the zone incomplete/);
  t.match(r.stdout, /^w1\s+installed\s+0 .*retried with --clean/m);
  t.notOk(fs.existsSync(path.join(zp, 'root/etc/half-written')), 'what the earlier run left is gone');
  t.ok(fs.existsSync(path.join(zp, 'root/etc/vfstab')));
  t.match(fs.readFileSync(path.join(dir, 'logs', 'w1.log'), 'utf8'), /removed what an earlier, failed install left/);
});

t.test('SIGTERM reaches the installs and their source commands; summary; exit 143', async (t) => {
  const dir = path.join(work, 'signal');
  fs.mkdirSync(dir);
  const zp = (n: string) => path.join(dir, 'zones', n);
  const stall = `cmd:head -c 300000 ${q(flar)}; sleep 60`;
  const plan = path.join(dir, 'plan.csv');
  fs.writeFileSync(
    plan,
    csv([
      ['zone', 'zonepath', 'source', 'identity', 'ip-type', 'host-root'],
      ['s1', zp('s1'), stall, 'u', 'shared', host],
      ['s2', zp('s2'), stall, 'u', 'shared', host],
      ['s3', zp('s3'), flar, 'u', 'shared', host],
    ]),
  );
  const child = spawn(process.execPath, [BIN, 'bulk', plan, '--json', '--log-dir', path.join(dir, 'logs')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const t0 = Date.now();
  let sentAt = 0;
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    stdout += s;
    // Both stalled installs are reading their source: interrupt.
    if (!sentAt && new Set(events(stdout.slice(0, stdout.lastIndexOf('\n') + 1)).filter((e) => e.event === 'progress').map((e) => e.zone)).size >= 2) {
      sentAt = Date.now();
      child.kill('SIGTERM');
    }
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
  clearTimeout(killer);
  t.ok(sentAt > 0, 'signal sent');
  t.equal(code, 143, `exit 143\n${stderr}`);
  t.ok(Date.now() - sentAt < 15_000, `ended ${Date.now() - sentAt} ms after the signal (the sources sleep 60 s): the signal reached them`);
  const byZone = new Map(events(stdout).filter((e) => e.event === 'bulk-zone').map((e) => [e.name as string, e]));
  t.equal(byZone.get('s1')?.result, 'interrupted');
  t.equal(byZone.get('s2')?.result, 'interrupted');
  t.equal(byZone.get('s3')?.result, 'not started');
  for (const z of ['s1', 's2']) t.notOk(fs.existsSync(path.join(zp(z), '.zonep2v-state')), `${z}: cleaned by its install`);
  t.notOk(fs.existsSync(zp('s3')), 's3 never started');
  t.match(stderr, /SIGTERM: no new zone starts; SIGTERM sent to 2 running install\(s\)/);
  t.match(stderr, /3 zones: 0 installed, 2 failed \(2 interrupted\), 0 skipped, 1 not started/);
  t.ok(Date.now() - t0 < 30_000);
});

// ---------------------------------------------------------------- display

t.test('live table: one row per zone, fits the terminal', async (t) => {
  const now = Date.now();
  const views: ZoneView[] = [
    { zone: 'web1', stage: 'installing', bytes: 50 * 1024 * 1024, inputBytes: 0, started: now - 10_000 },
    { zone: 'web2', stage: 'failed', bytes: 0, inputBytes: 0, started: now - 5000, ended: now - 1000, result: 'failed', exit: 254, message: 'truncated' },
    { zone: 'db1', stage: 'skipped', bytes: 0, inputBytes: 0, result: 'skipped (installed)' },
    { zone: 'db2', stage: 'queued', bytes: 0, inputBytes: 0 },
  ];
  let written = '';
  const out = { columns: 80, rows: 24, isTTY: true, write: (s: string) => ((written += s), true) } as unknown as NodeJS.WriteStream;
  const table = new LiveTable(views, out);
  const lines = table.lines(now);
  t.match(lines[0], /^ZONE\s+STAGE\s+BYTES\s+RATE\s+TIME\s+RESULT$/);
  t.match(lines[1], /^web1\s+installing\s+50\.0 MiB\s+5\.0 MiB\/s\s+10\.0s\s*$/);
  t.match(lines[2], /^web2\s+failed\s+0 B\s+4\.0s\s+failed \(254\): truncated$/);
  t.match(lines[3], /^db1\s+skipped\s+skipped \(installed\)$/);
  t.match(lines[5], /4 zones: 1 running, 1 failed, 1 skipped \(installed\), 1 queued/);
  table.change();
  table.progress();
  t.match(written, /\rZONE/);
  written = '';
  table.close();
  t.equal(written, '\x1b[6A\r\x1b[J', 'the table is erased before the summary');
  // A small terminal: only running and failed zones, then the counts.
  const small = new LiveTable(
    Array.from({ length: 40 }, (_, i) => ({ zone: `z${i}`, stage: 'queued', bytes: 0, inputBytes: 0, ...(i === 7 ? { started: now } : {}) })),
    { columns: 40, rows: 8, isTTY: true, write: () => true } as unknown as NodeJS.WriteStream,
  );
  const sl = small.lines(now);
  t.ok(sl.length <= 7, 'fits in the rows');
  t.ok(sl.every((l) => l.length <= 40), 'fits in the columns');
  t.match(sl[1], /^z7 /);

  const s = formatSummary(views, totals(views, 60_000));
  t.match(s, /^web2\s+failed\s+254\s+4\.0s\s+0\.0\s+truncated$/m);
  t.match(s, /4 zones: 0 installed, 1 failed, 1 skipped in 60\.0 s; 0\.0 zones\/minute, 0\.0 MB\/s/);
});
