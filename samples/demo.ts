// `npm run demo`: build the sample Solaris 10 system image, pack it as a
// compressed flash archive with the real tools, and p2v it into a zone with
// `zonep2v install`, printing what it does. Everything lands under
// samples/out/ (or the directory given as the first argument).

import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { makeImage } from './image.js';
import { packImage } from './pack.js';
import { makeHostRoot } from './host.js';

async function main(): Promise<number> {
  const out = path.resolve(process.argv[2] ?? 'samples/out');
  fs.rmSync(out, { recursive: true, force: true });
  const img = path.join(out, 'image');
  const archives = path.join(out, 'archives');
  const host = path.join(out, 'host');
  const zonepath = path.join(out, 'zones', 'web1');
  fs.mkdirSync(img, { recursive: true });
  fs.mkdirSync(archives, { recursive: true });
  fs.chmodSync(out, 0o755);

  const say = (s: string) => process.stdout.write(`${s}\n`);
  say(`demo: building a sample Solaris 10 image in ${img}`);
  const m = await makeImage(img, {});
  say(`demo: ${m.counts.entries} entries, ${(m.totalBytes / 1048576).toFixed(1)} MiB, nested zones: ${m.nestedZones.map((z) => `${z.name} (${z.zonepath})`).join(', ')}`);
  const files = await packImage(img, archives, ['flar-Z']);
  const flar = files['flar-Z']!;
  say(`demo: packed it as a compressed flash archive: ${flar} (${fs.statSync(flar).size} bytes)`);
  makeHostRoot(img, host);
  say(`demo: host package inventory (stand-in for a Solaris host's /) in ${host}`);

  const cli = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../bin/zonep2v.js');
  const args = ['install', 'web1', zonepath, '-a', flar, '-u', '-v', '--host-root', host, '--log', path.join(out, 'web1.install.log')];
  say(`demo: zonep2v ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [cli, ...args], { stdio: 'inherit' });
  if (r.status !== 0) return r.status ?? 1;

  const root = path.join(zonepath, 'root');
  say('');
  say(`demo: the zone root is ${root}`);
  say('demo: etc/vfstab in the zone now reads:');
  say(fs.readFileSync(path.join(root, 'etc/vfstab'), 'utf8').replace(/^/gm, '    '));
  say(`demo: nested zone roots left in the image: ${m.nestedZones.filter((z) => fs.existsSync(path.join(root, z.zonepath))).length} (of ${m.nestedZones.length})`);
  say(`demo: the p2v report is ${path.join(root, 'var/log/web1.p2v.log')}; the attach manifest ${path.join(zonepath, 'SUNWdetached.xml')}`);
  return 0;
}

main().then((c) => { process.exitCode = c; }, (e) => { process.stderr.write(`demo failed: ${(e as Error).stack}\n`); process.exitCode = 1; });
