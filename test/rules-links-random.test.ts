// Random images whose hard-link groups mix the files p2v changes with
// ordinary names, in random archive order, through every rule (-u and -p)
// into a real file writer: the install must never fail on a link, and every
// ordinary name must end up with the content of its group (the file it was
// a name of), however the rules treated the group's other names.

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { defaultRules } from '../src/rules/index.js';
import { run } from '../src/pipeline/run.js';
import { FsSink } from '../src/sink/fs.js';
import type { Entry } from '../src/entry.js';
import { prng } from './lib/prng.js';
import { tmpdir } from './lib/tree.js';
import { ent, file, from, makeCtx } from './rules-lib.js';

/** Names the rules rewrite, delete, rename or hold back. */
const RULE_PATHS = [
  'etc/vfstab',
  'etc/dfs/dfstab',
  'etc/nsswitch.conf',
  'etc/nsswitch.files',
  'etc/lutab',
  'etc/lu/.BE_CONFIG',
  'etc/nodename',
  'etc/defaultrouter',
  'etc/inet/hosts',
  'etc/shadow',
  'etc/default/init',
  'etc/hostname.ce0',
  'etc/zones/index',
  'var/svc/profile/upgrade',
];
const DIRS = ['etc', 'etc/dfs', 'etc/lu', 'etc/inet', 'etc/default', 'etc/zones', 'var', 'var/svc', 'var/svc/profile', 'export', 'export/keep'];

interface Case {
  entries: Entry[];
  /** Ordinary name -> the content its group's file had. */
  expect: Map<string, string>;
}

function makeCase(seed: number): Case {
  const rnd = prng(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
  const ruleNames = [...RULE_PATHS].sort(() => rnd() - 0.5).slice(0, 1 + Math.floor(rnd() * 5));
  const groups: string[][] = [];
  let k = 0;
  for (const r of ruleNames) {
    const g = [r];
    const extra = 1 + Math.floor(rnd() * 3);
    for (let i = 0; i < extra; i++) g.push(rnd() < 0.2 ? pick(RULE_PATHS.filter((p) => !ruleNames.includes(p) && !groups.flat().includes(p) && !g.includes(p))) ?? `export/keep/n${k++}` : `export/keep/n${k++}`);
    groups.push([...new Set(g)]);
  }
  const expect = new Map<string, string>();
  const members: { name: string; group: number }[] = [];
  groups.forEach((g, i) => {
    const content = `group ${i} of seed ${seed}\n/dev/dsk/c0t0d0s${i} /dev/rdsk/c0t0d0s${i} /g${i} ufs 2 yes -\n`;
    for (const n of g) {
      members.push({ name: n, group: i });
      if (!RULE_PATHS.includes(n)) expect.set(n, content);
    }
  });
  members.sort(() => rnd() - 0.5);
  const entries: Entry[] = DIRS.map((d) => ent(`./${d}`));
  const first = new Map<number, string>();
  for (const m of members) {
    const content = `group ${m.group} of seed ${seed}\n/dev/dsk/c0t0d0s${m.group} /dev/rdsk/c0t0d0s${m.group} /g${m.group} ufs 2 yes -\n`;
    const f = first.get(m.group);
    if (f === undefined) {
      first.set(m.group, m.name);
      entries.push(file(`./${m.name}`, content));
    } else {
      entries.push(ent(`./${m.name}`, 'hardlink', undefined, { linkTarget: `./${f}` }));
    }
  }
  return { entries, expect };
}

t.test('random hard-link groups across the files p2v changes: no failure, nothing lost', async (t) => {
  const work = tmpdir('zonep2v-links-random-');
  t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));
  let n = 0;
  for (let seed = 1; seed <= 150; seed++) {
    for (const identity of ['unconfigure', 'preserve'] as const) {
      const { entries, expect } = makeCase(seed);
      const root = path.join(work, `r${n++}`);
      fs.mkdirSync(root);
      const sink = new FsSink(root, { owners: false });
      const ctx = makeCtx({ identity, zone: { ipType: 'exclusive', net: ['vnic0'] } });
      ctx.readWritten = (rel, cap) => sink.readWritten(rel, cap);
      try {
        await run({ entries: from(entries), sink, rules: defaultRules(), ruleCtx: ctx });
      } catch (e) {
        t.fail(`seed ${seed} ${identity}: ${(e as Error).message}`);
        continue;
      }
      let bad = 0;
      for (const [name, content] of expect) {
        let got: string | null = null;
        try {
          got = fs.readFileSync(path.join(root, name), 'latin1');
        } catch {
          got = null;
        }
        if (got !== content) {
          bad++;
          t.fail(`seed ${seed} ${identity}: ${name} is ${got === null ? 'missing' : JSON.stringify(got)}`);
        }
      }
      if (bad === 0) t.pass(`seed ${seed} ${identity}: ${expect.size} names whole`);
      fs.rmSync(root, { recursive: true, force: true });
    }
  }
});
