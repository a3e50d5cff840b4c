// dump 0.4b -M (multi-volume) leaves an empty last volume file when the dump
// ends exactly on a volume boundary (seen with -B 101 and -B 40); restore -M
// says nothing of it. The parser warned "input after the dump's end marker
// ignored" for it. An empty volume after the end is no input; a volume with
// bytes in it still is. Found by randomised differential testing against
// restore -r.

import t from 'tap';
import { ByteReader } from '../src/source/reader.js';
import { parseDumpVolumes } from '../src/formats/dump.js';
import { makeContext } from '../src/formats/types.js';
import type { Warning } from '../src/formats/types.js';
import { synthDump } from './lib/dump-synth.js';

const dump = Buffer.concat([
  ...synthDump({
    order: 'le',
    flavour: 'linux',
    maxino: 16,
    dirs: [{ ino: 2, kind: 'dir', parent: 2, entries: [['f', 11]] }],
    files: [{ ino: 11, kind: 'file', data: Buffer.from('data\n') }],
  }),
]);

async function warningsOf(vols: Buffer[]): Promise<{ names: string[]; warnings: Warning[] }> {
  const warnings: Warning[] = [];
  const ctx = makeContext({ warn: (w) => warnings.push(w) });
  async function* readers() {
    for (const b of vols) yield new ByteReader((async function* () { if (b.length) yield b; })());
  }
  const names: string[] = [];
  for await (const e of parseDumpVolumes(readers(), ctx)) {
    names.push(e.path);
    if (e.type === 'file') for await (const _ of e.body());
  }
  return { names, warnings };
}

t.test('an empty volume after the end marker is not reported', async (t) => {
  for (const vols of [[dump, Buffer.alloc(0)], [dump, Buffer.alloc(0), Buffer.alloc(0)]]) {
    const { names, warnings } = await warningsOf(vols);
    t.same(names, ['', 'f']);
    t.same(warnings.map((w) => w.kind), [], `${vols.length} volumes, the last ${vols.length - 1} empty`);
  }
});

t.test('a volume with bytes after the end marker still is', async (t) => {
  for (const vols of [[dump, Buffer.from('junk')], [dump, Buffer.alloc(0), Buffer.from('junk')]]) {
    const { names, warnings } = await warningsOf(vols);
    t.same(names, ['', 'f']);
    t.same(warnings.map((w) => w.kind), ['dump-extra-volume']);
  }
});
