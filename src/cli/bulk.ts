// `zonep2v bulk PLAN`: many installs at once from a plan file. Each zone is
// the real `zonep2v install` as a child process (--json --log), at most
// --jobs at a time; its events drive a live table (or one line per change),
// and a summary ends the run. A re-run skips what is installed and retries
// what failed.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { EXIT } from '../errors.js';
import { parsePlan, PlanError, type Plan } from '../bulk/plan.js';
import { preflight } from '../bulk/preflight.js';
import type { ZoneView } from '../bulk/runner.js';
import { Scheduler } from '../bulk/scheduler.js';
import { lockLogDir, readStatus, writeStatus, type ZoneStatus } from '../bulk/status.js';
import { formatSummary, LineReport, LiveTable, totals, type Display } from '../bulk/table.js';

export const BULK_USAGE = `usage: zonep2v bulk PLAN [--jobs N] [--json] [--log-dir DIR] [--retry-failed-only]

Install many zones at once from a plan file. Each zone is a \`zonep2v install\`
child process (--json, its own log); at most --jobs run at a time.

Options:
  -j, --jobs N            installs at once (default 2)
      --json              the installs' JSON events on stdout (each names its
                          zone), plus bulk-start, bulk-zone (one per zone, with
                          its result) and bulk-result (totals)
      --log-dir DIR       one log per zone, DIR/<zone>.log, the summary and
                          bulk-status.json (default /var/log/zones/zonep2v-bulk.<plan name>)
      --retry-failed-only run only the zones whose last result (bulk-status.json
                          in the log directory) was a failure
  -h, --help              this text

The plan: JSON or CSV, told apart by its first character ([ or { is JSON).
One record per zone; keys (CSV columns) are case-insensitive, _ may be -:
  zone            zone name (required)
  zonepath        absolute zonepath (required)
  source          an archive path; cmd:COMMAND, a shell command whose stdout
                  is the archive (cmd:ssh legacy07 flarcreate -n l7 -S -);
                  or dir:DIRECTORY, a copied or mounted root tree.
                  Or instead one of the columns archive, command, dir.
                  "-" (stdin) is not allowed.
  identity        u (sys-unconfig) or p (preserve) (required)
  ip-type         shared or exclusive
  net             exclusive-IP interfaces, e.g. "e1000g1 e1000g2"
  zone-config, host-root, host-manifest, attach-command, config,
  backout (patch ids), lenient (yes/no), limit (e.g. "ratio=off entries=200M"):
                  as the install options of the same name
Relative paths are taken from the plan's directory, where the installs run.
JSON: an array of zones, or {"defaults": {...}, "zones": [...]}, where
defaults apply to every zone that does not set the key itself:
  {"defaults": {"identity": "u", "host-root": "/"},
   "zones": [{"zone": "web1", "zonepath": "/zones/web1", "source": "/a/web1.flar"},
             {"zone": "db1", "zonepath": "/zones/db1", "source": "cmd:ssh db1 flarcreate -n db1 -S -"}]}
CSV: the first line names the columns; # starts a comment line; quote a field
with "..." when it holds a comma (double a quote inside):
  zone,zonepath,source,identity,ip-type,net
  web1,/zones/web1,/archives/web1.flar,u,shared,
  db1,/zones/db1,"cmd:ssh db1 'flarcreate -n db1 -S -'",p,exclusive,e1000g1

The whole plan is checked first (fields, duplicate zones or zonepaths, sources
and files present, zone roots empty); any problem: exit 253, nothing started.
A zone whose state file says installed is skipped; one an earlier run left
incomplete is retried with --clean. One run at a time per log directory
(bulk.lock there): a second is refused (253). Commands run without a terminal: ssh
needs keys (BatchMode), not passwords.

Exit status: 0 every zone installed or skipped; 1 a zone failed; 253 bad
arguments or plan (nothing started); 130/143 interrupted (SIGINT/SIGTERM: the
signal is passed to the running installs, which clean up; then the summary).`;

/** bin/zonep2v.js of this installation. */
function defaultBin(): string {
  const bin = fileURLToPath(new URL('../../../bin/zonep2v.js', import.meta.url));
  return fs.existsSync(bin) ? bin : path.resolve(process.argv[1] ?? 'bin/zonep2v.js');
}

export async function bulkCommand(argv: string[]): Promise<number> {
  let values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        jobs: { type: 'string', short: 'j' },
        json: { type: 'boolean' },
        'log-dir': { type: 'string' },
        'retry-failed-only': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    process.stderr.write(`zonep2v bulk: ${(e as Error).message}\n${BULK_USAGE}\n`);
    return EXIT.USAGE;
  }
  if (values.help) {
    process.stdout.write(`${BULK_USAGE}\n`);
    return EXIT.OK;
  }
  const usage = (m: string) => {
    process.stderr.write(`zonep2v bulk: ${m}\n`);
    return EXIT.USAGE;
  };
  if (positionals.length !== 1) return usage(positionals.length ? `one plan file, not ${positionals.length}` : 'the plan file is missing (zonep2v bulk --help)');
  const planFile = path.resolve(positionals[0]!);
  const jobs = values.jobs === undefined ? 2 : Number(values.jobs);
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > 256) return usage(`--jobs must be a whole number from 1 to 256, not ${JSON.stringify(values.jobs)}`);

  const logDir = path.resolve(values['log-dir'] ?? path.join('/var/log/zones', `zonep2v-bulk.${path.basename(planFile).replace(/\.(json|csv|txt)$/i, '')}`));
  const status = readStatus(logDir);
  const pfOpts = { retryFailedOnly: !!values['retry-failed-only'], status };
  let plan: Plan;
  try {
    plan = parsePlan(fs.readFileSync(planFile, 'utf8'), planFile);
  } catch (e) {
    if (!(e instanceof PlanError)) return usage(`cannot read the plan: ${(e as Error).message}`);
    // The filesystem checks of the records that parsed too, so that one run lists every problem.
    const more = preflight({ format: 'csv', baseDir: path.dirname(planFile), zones: e.zones }, pfOpts).problems;
    return usage(`${planFile}: ${new PlanError([...e.problems, ...more]).message}`);
  }
  if (values['retry-failed-only'] && !status) return usage(`--retry-failed-only: no earlier run recorded in ${logDir} (bulk-status.json)`);
  let { decisions, problems } = preflight(plan, pfOpts);
  if (problems.length) return usage(`${planFile}: ${new PlanError(problems).message}`);
  let release: (() => void) | string;
  try {
    fs.mkdirSync(logDir, { recursive: true, mode: 0o700 });
    fs.accessSync(logDir, fs.constants.W_OK);
    release = lockLogDir(logDir);
  } catch (e) {
    return usage(`cannot use the log directory ${logDir}: ${(e as Error).message}`);
  }
  if (typeof release === 'string') return usage(release);
  try {
    // Again under the lock: a run that held it may have installed or failed zones since.
    ({ decisions, problems } = preflight(plan, { ...pfOpts, status: readStatus(logDir) }));
    if (problems.length) return usage(`${planFile}: ${new PlanError(problems).message}`);
    return await runPlan(plan, planFile, decisions, { jobs, json: !!values.json, logDir });
  } finally {
    release();
  }
}

async function runPlan(plan: Plan, planFile: string, decisions: ReturnType<typeof preflight>['decisions'], o: { jobs: number; json: boolean; logDir: string }): Promise<number> {
  const out = process.stdout;
  const event = (name: string, fields: Record<string, unknown>) => {
    if (o.json) out.write(`${JSON.stringify({ v: 1, time: new Date().toISOString(), zone: null, event: name, ...fields })}\n`);
  };
  const views = new Map<string, ZoneView>();
  for (const d of decisions) views.set(d.z.zone, { zone: d.z.zone, stage: d.action === 'skip' ? 'skipped' : 'queued', bytes: 0, inputBytes: 0, result: d.result });
  const list = [...views.values()];
  const display: Display = process.stderr.isTTY ? new LiveTable(list, process.stderr) : new LineReport(process.stderr);
  const results: Record<string, ZoneStatus> = {};
  const zoneEvent = (v: ZoneView) => {
    results[v.zone] = { result: v.result ?? '?', exit: v.exit, finished: new Date().toISOString(), message: v.message };
    event('bulk-zone', { name: v.zone, result: v.result, exit: v.exit ?? null, signal: v.signal ?? null, seconds: v.started ? ((v.ended ?? Date.now()) - v.started) / 1000 : null, bytes: v.bytes, message: v.message ?? null, note: v.note ?? null, log: path.join(o.logDir, `${v.zone}.log`) });
  };

  event('bulk-start', { plan: planFile, zones: decisions.length, run: decisions.filter((d) => d.action === 'run').length, jobs: o.jobs, logDir: o.logDir });
  for (const d of decisions) {
    if (d.action !== 'skip') continue;
    const v = views.get(d.z.zone)!;
    display.change(v);
    zoneEvent(v);
  }

  const sched = new Scheduler(decisions, views, {
    jobs: o.jobs,
    bin: defaultBin(),
    cwd: plan.baseDir,
    logDir: o.logDir,
    display,
    onEvent: o.json ? (_ev, line) => out.write(`${line}\n`) : undefined,
    onDone: zoneEvent,
  });
  const onSignal = (sig: NodeJS.Signals) => sched.stop(sig);
  const sigs: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of sigs) process.on(s, onSignal);
  const t0 = Date.now();
  try {
    await sched.run();
  } finally {
    for (const s of sigs) process.off(s, onSignal);
  }
  const wall = Date.now() - t0;
  display.close();

  const t = totals(list, wall);
  const summary = formatSummary(list, t);
  try {
    writeStatus(o.logDir, planFile, results);
    fs.writeFileSync(path.join(o.logDir, 'summary.txt'), `${summary}\n`, { mode: 0o600 });
  } catch (e) {
    process.stderr.write(`zonep2v bulk: cannot record the results in ${o.logDir}: ${(e as Error).message}\n`);
  }
  const interrupted = sched.interrupted;
  const code = interrupted ? 128 + (interrupted === 'SIGINT' ? 2 : interrupted === 'SIGHUP' ? 1 : 15) : t.failed ? 1 : EXIT.OK;
  event('bulk-result', { exit: code, ...t, peakJobs: sched.peak, interrupted: interrupted ?? null, logDir: o.logDir });
  (o.json ? process.stderr : out).write(`${summary}\nLogs: ${o.logDir}\n`);
  return code;
}
