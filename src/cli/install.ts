// `zonep2v install`: the native brand's install hook. Wires the stages:
// source -> decode -> formats -> rules (+ inventory, sanity observers) ->
// safe sink -> attach checks -> manifest -> hand-over, with the Solaris
// banners, an install log, JSON events, and the zoneadm exit codes.

import fs from 'node:fs';
import path from 'node:path';
import type { Entry } from '../entry.js';
import { ArchiveError, EXIT, UsageError } from '../errors.js';
import {
  checkBackout,
  checkSanity,
  checkWholeRoot,
  compareInventories,
  handOver,
  writeDetachedManifest,
  type Inventory,
  type ParsedZone,
  inventoryAfterBackout,
  unsafeDirs,
} from '../attach/index.js';
import { reportEntry } from '../rules/index.js';
import type { RuleContext } from '../rules/types.js';
import { FsSink } from '../sink/fs.js';
import { drive } from '../pipeline/run.js';
import { clearRoot } from '../sink/clear-root.js';
import { checkZonepath, clearState, prepareZonepath, readState, stateRefusal, writeState, type StateRecord } from '../sink/zonepath.js';
import { checkSourceFiles, describeError, Interrupt, openSource, Warnings } from './common.js';
import { BRAND_USAGE, INSTALL_USAGE, parseInstallArgs, type InstallArgs } from './install-args.js';
import { eventLine, openInstallLog, type InstallLog } from './log.js';
import { human, progressLine, type ProgressLine } from './progress.js';
import { loadSiteConfig } from './site-config.js';
import { formatLabel, loadHostInventory, loadZone, makeRuleContext, p2vPipeline, runDate } from './pipeline-setup.js';

export async function installCommand(argv: string[]): Promise<number> {
  let args: InstallArgs;
  try {
    args = parseInstallArgs(argv);
  } catch (e) {
    // --json as given, when the rest did not parse (not a value: `--log --json` is rare enough).
    const dd = argv.indexOf('--');
    return refuse((dd < 0 ? argv : argv.slice(0, dd)).includes('--json'), null, (e as Error).message, BRAND_USAGE);
  }
  if (args.help) {
    process.stdout.write(`${INSTALL_USAGE}\n`);
    return EXIT.OK;
  }
  // From here a signal is caught: before anything is written it is a 253
  // (zoneadm treats death by a signal as fatal: the zone needs an uninstall).
  const interrupt = new Interrupt();
  try {
    return await checkThenInstall(args, interrupt);
  } finally {
    interrupt.dispose();
  }
}

async function checkThenInstall(args: InstallArgs, interrupt: Interrupt): Promise<number> {
  // Everything that can be refused without touching the zonepath is refused
  // here, with 253: zone state, configuration, host inventory, site config.
  let zone: ParsedZone;
  let hostInv: Inventory;
  let site: RuleContext['site'];
  try {
    const refused = stateRefusal(args.zonepath, args.zone, args.clean);
    if (refused) throw new UsageError(refused);
    zone = await zoneConfig(args);
    const sparse = checkWholeRoot(zone);
    if (sparse) throw new UsageError(sparse);
    hostInv = await loadHostInventory(args);
    site = loadSiteConfig(args.config);
    checkSourceFiles(args.archive ? [args.archive] : undefined, args.dir, '\nInstallation aborted.');
    interrupt.check();
  } catch (e) {
    const why = interrupt.signal.aborted ? `${(interrupt.signal.reason as Error).message} before anything was written` : (e as Error).message;
    return refuse(args.json, args.zone, why);
  }

  let log: InstallLog;
  try {
    log = openInstallLog({ zone: args.zone, file: args.log, verbosity: args.silent ? 'silent' : args.verbose ? 'verbose' : 'normal', json: args.json });
  } catch (e) {
    return refuse(args.json, args.zone, `cannot create the install log: ${(e as Error).message}`);
  }
  try {
    return await install(args, zone, hostInv, site, log, interrupt);
  } finally {
    log.close();
  }
}

/**
 * A refusal before anything is written (253): the message on stderr and,
 * with --json, the error and result events a program reads on stdout, as
 * for any other failure.
 */
function refuse(json: boolean, zone: string | null, message: string, usage?: string): number {
  process.stderr.write(`${message}\n${usage ? `${usage}\n` : ''}`);
  if (json) process.stdout.write(eventLine(zone, 'error', { kind: 'usage', message }) + eventLine(zone, 'result', { ok: false, exit: EXIT.USAGE, kind: 'usage', message }));
  return EXIT.USAGE;
}

async function zoneConfig(args: InstallArgs): Promise<ParsedZone> {
  return loadZone({ zone: args.zone, zonepath: args.zonepath, zoneConfig: args.zoneConfig, ipType: args.ipType, net: args.net, useZonecfg: true });
}

async function install(args: InstallArgs, zone: ParsedZone, hostInv: Inventory, site: RuleContext['site'], log: InstallLog, interrupt: Interrupt): Promise<number> {
  const started = Date.now();
  log.banner('Log File', log.file);
  log.event('start', { zonepath: args.zonepath, source: args.archive ?? args.dir ?? args.command, identity: args.identity, ipType: zone.ipType });

  let sink: FsSink | undefined;
  let wroteZonepathFiles: string[] = [];
  let claimed = false;
  let progress: ProgressLine | undefined;
  const state: StateRecord = { state: 'incomplete', zone: args.zone, source: args.archive ?? args.dir ?? args.command ?? '?', started: new Date(started).toISOString(), pid: process.pid };

  try {
    const root = prepareRoot(args, log);
    // Exclusive unless --clean took over a dead run's marker: of two installs
    // started at once, the second stops here and leaves the first's marker.
    writeState(args.zonepath, state, !args.clean);
    claimed = true;
    log.banner('Installing', 'This may take several minutes...');
    log.event('stage', { stage: 'installing' });

    const warnings = new Warnings((s) => {
      progress?.done();
      log.detail(s);
    }, args.verbose);
    const src = openSource({ archive: args.archive ? [args.archive] : undefined, dir: args.dir, command: args.command }, { lenient: args.lenient, warn: warnings.add, signal: interrupt.signal, limits: args.limits });
    interrupt.watch(src.input);
    sink = new FsSink(root, { warn: warnings.add, lenient: args.lenient, caps: args.limits.sink, signal: interrupt.signal });
    const fsSink = sink;
    const ctx = makeRuleContext({ zone, identity: args.identity, date: runDate(started), removeWritten: (p) => fsSink.removeWritten(p), readWritten: (p, cap) => fsSink.readWritten(p, cap), site });
    const report = ctx.report;
    const { stream, inventory, sanity } = p2vPipeline(src.entries, ctx);

    const bar = progressLine(args.progress || (process.stderr.isTTY === true && !args.silent && !args.json), () => src.info.expectedBytes); // a flar's size is known once its header is read
    progress = bar;
    let entries = 0;
    let bytes = 0;
    let lastEvent = 0;
    interrupt.check();
    await drive(stream, sink, (e) => {
      interrupt.check();
      if (++entries === 1) sink!.declaredSize(src.info.unpackedBytes); // known once the flar header is read
      if (e.type === 'file') bytes += e.size;
      bar.update(entries, bytes, src.input?.bytesRead() ?? 0);
      if (args.json && Date.now() - lastEvent > 1000) {
        lastEvent = Date.now();
        log.event('progress', { entries, bytes, inputBytes: src.input?.bytesRead() ?? 0, expectedBytes: src.info.expectedBytes });
      }
    });
    interrupt.check();
    bar.done();
    await sink.write(reportEntry(ctx));
    const stats = await sink.finish();
    const fmt = formatLabel(src.info);
    log.detail(`unpacked ${stats.entries} entries, ${human(stats.bytes)} from ${fmt} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    if (warnings.counts.size) log.detail(`warnings: ${warnings.summary()}`);
    // What flarcreate or ssh said on the way (a warning, a banner) belongs in the log.
    for (const line of src.input?.stderrLines?.() ?? []) log.detail(`source command: ${line}`);
    for (const line of report.toText().trimEnd().split('\n').filter(Boolean)) log.detail(`   Postprocess: ${line}`);
    log.event('unpacked', { entries: stats.entries, bytes: stats.bytes, format: fmt, skipped: stats.skipped, dropped: report.dropped, changes: report.changes.length });

    // Sanity checks on what was unpacked (solaris-p2v.md 2.7).
    const imageInv = inventory.result();
    const sane = checkSanity({ seen: sanity.seen, root, image: imageInv.release?.instRelease, host: hostInv.release?.instRelease });
    for (const s of sane.skipped) log.detail(`Sanity Check: skipped ${s}`);
    // checkSanity ends its lines with the Passed/FAILED banner: printed once, below.
    for (const m of sane.messages) if (!/Sanity Check: (Passed|FAILED)/.test(m)) (sane.ok ? log.detail : log.info)(m);
    if (!sane.ok) {
      log.banner('Sanity Check', 'FAILED (see log for details).');
      log.event('stage', { stage: 'sanity', ok: false, messages: sane.messages });
      throw new ArchiveError('sanity', 'the image failed the sanity checks');
    }
    log.banner('Sanity Check', 'Passed.  Looks like a native system.');
    log.event('stage', { stage: 'sanity', ok: true });

    // Attach: the image's packages against the host's (no downgrade), then the manifest.
    log.banner('Postprocessing', 'This may take a while...');
    const unsafe = unsafeDirs(sanity.notDir);
    if (unsafe.length) {
      for (const m of unsafe) log.info(`   Postprocess: ${m}`);
      log.event('error', { kind: 'p2v', messages: unsafe });
      log.banner('Result', 'Postprocessing failed.');
      throw new ArchiveError('p2v', 'a directory p2v edits in is not a real directory in the image');
    }
    // -b: update on attach backs these patches out before it compares (4.2).
    const unbackable = checkBackout(inventory.raw, args.backout);
    if (unbackable.length) {
      for (const m of unbackable) log.info(m);
      log.event('error', { kind: 'backout', messages: unbackable });
      log.info('Updating the Zone software failed');
      log.banner('Result', 'Postprocessing failed.');
      throw new ArchiveError('backout', 'patches named with -b cannot be backed out of the image');
    }
    const cmp = compareInventories(inventoryAfterBackout(inventory.raw, imageInv, args.backout), hostInv, args.zone);
    log.event('stage', { stage: 'attach-check', ok: cmp.ok, errors: cmp.errors, pkgAdd: cmp.pkgAdd.length, pkgRm: cmp.pkgRm.length });
    if (!cmp.ok) {
      for (const m of cmp.errors) log.info(m); // already "zone 'z': ERROR: ..." as Solaris prints them
      log.event('error', { kind: 'downgrade', messages: cmp.errors });
      log.info('Updating the Zone software failed');
      log.banner('Result', 'Postprocessing failed.');
      throw new ArchiveError('downgrade', 'the image is newer than this host: a zone cannot be downgraded on attach');
    }
    const manifestPath = path.join(args.zonepath, 'SUNWdetached.xml');
    wroteZonepathFiles = [manifestPath, path.join(args.zonepath, 'pkg_add'), path.join(args.zonepath, 'pkg_rm')];
    fs.writeFileSync(manifestPath, writeDetachedManifest(zone, imageInv), { mode: 0o644 });
    fs.writeFileSync(wroteZonepathFiles[1]!, cmp.pkgAdd.map((p) => `${p}\n`).join(''), { mode: 0o644 });
    fs.writeFileSync(wroteZonepathFiles[2]!, cmp.pkgRm.map((p) => `${p}\n`).join(''), { mode: 0o644 });
    log.detail(`attach: ${cmp.pkgAdd.length} package(s) to add, ${cmp.pkgRm.length} to remove on update; manifest ${manifestPath}`);
    log.banner('Result', 'Postprocessing complete.');

    // A signal during the checks above still rolls back; once the hand-over
    // has begun it is let finish (undoing an attach half done is worse).
    interrupt.check();
    const handed = await handOver({ zone: args.zone, zonepath: args.zonepath, attachCommand: args.attachCommand, backout: args.backout, log: (s) => log.detail(s) });
    if (handed.done) log.detail(handed.how);
    if (interrupt.signal.aborted) log.info(`note: ${(interrupt.signal.reason as Error).message} came during the hand-over, which was let finish: the zone is installed`);
    log.event('stage', { stage: 'handover', done: handed.done, how: handed.how });

    copyLogIntoZone(root, args.zone, log.file);
    writeState(args.zonepath, { ...state, state: 'installed', finished: new Date().toISOString() });
    log.banner('Result', 'Installation completed successfully.');
    if (!handed.done) log.info(`        Note: ${handed.how}`);
    log.event('result', { ok: true, exit: EXIT.OK, attached: handed.done, seconds: (Date.now() - started) / 1000, entries: stats.entries, bytes: stats.bytes });
    return EXIT.OK;
  } catch (caught) {
    // After a signal, the read that failed because the input was closed is not
    // the cause; and a pump still waiting on stdin would keep the process alive.
    const e = interrupt.reason(caught);
    progress?.done();
    const { message } = describeError(e);
    const kind = e instanceof ArchiveError ? e.kind : undefined;
    if (!(e instanceof ArchiveError && (e.kind === 'sanity' || e.kind === 'downgrade' || e.kind === 'backout' || e.kind === 'p2v'))) log.error(message, { kind, entry: (e as ArchiveError).entry, offset: (e as ArchiveError).offset });
    let left: string[] = [];
    if (sink) left = await sink.abort();
    for (const f of wroteZonepathFiles) fs.rmSync(f, { force: true });
    // --clean could not empty what an earlier run left: that run's marker
    // stays, and the zone still needs an uninstall (not a plain retry).
    const stuck = e instanceof ArchiveError && e.kind === 'cleanup';
    const code = left.length || stuck ? EXIT.FATAL : EXIT.NOTCOMPLETE;
    if (left.length) {
      log.error(`cleanup could not remove ${left.length} path(s); the zone needs zoneadm uninstall -F (or zonep2v install --clean):`);
      for (const p of left.slice(0, 50)) log.info(`    ${p}`);
    } else if (stuck) {
      log.info('the zone stays incomplete: unmount what is mounted in the zone root, then zoneadm uninstall -F (or zonep2v install --clean)');
    } else {
      if (claimed && fs.existsSync(args.zonepath)) clearState(args.zonepath);
      log.detail('what this install wrote was removed; the install can be retried');
    }
    log.banner('Result', '*** Installation FAILED ***');
    log.event('result', { ok: false, exit: code, kind, message, left: left.slice(0, 50) });
    return code;
  }
}

/** The zonepath made safe, the root empty (emptied first with --clean). */
function prepareRoot(args: InstallArgs, log: InstallLog): string {
  if (args.clean && readState(args.zonepath)?.state === 'incomplete') {
    // D-15 first: an owner other than root, or a link on the way, could
    // swap a directory for a link while clearRoot walks the tree.
    fs.chmodSync(checkZonepath(args.zonepath), 0o700);
    const left = clearRoot(path.join(args.zonepath, 'root'));
    if (left.length) throw new ArchiveError('cleanup', `--clean could not empty the zone root: ${left.slice(0, 5).join(', ')}`, {}, 'unmount what is mounted there and retry');
    clearState(args.zonepath);
    log.detail('removed what an earlier, failed install left in the zone root');
  }
  return prepareZonepath(args.zonepath);
}

/** The install log, copied to var/log/<zone>.install<pid>.log when var and var/log are real directories. */
function copyLogIntoZone(root: string, zone: string, logFile: string): void {
  for (const d of ['var', 'var/log']) {
    const st = fs.lstatSync(path.join(root, d), { throwIfNoEntry: false });
    if (!st || !st.isDirectory()) return;
  }
  const dest = path.join(root, 'var/log', `${zone}.install${process.pid}.log`);
  const fd = fs.openSync(dest, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
  try {
    fs.writeSync(fd, fs.readFileSync(logFile));
  } finally {
    fs.closeSync(fd);
  }
}

export type { Entry };
