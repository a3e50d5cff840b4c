// When the reader's periodic collection is a full one (src/source/young-gc.ts).

import t from 'tap';
import { MajorPolicy } from '../src/source/young-gc.js';

const MiB = 1024 * 1024;

/** The indexes (from 1) of the calls that answered true. */
function majors(p: MajorPolicy, externals: number[]): number[] {
  const out: number[] = [];
  externals.forEach((x, i) => {
    if (p.next(x)) out.push(i + 1);
  });
  return out;
}

t.test('every 16th collection is a full one while external memory stays flat', async (t) => {
  t.same(majors(new MajorPolicy(16, 8 * MiB), Array(48).fill(10 * MiB)), [16, 32, 48]);
});

t.test('external memory grown past the floor starts one early, and the count starts again', async (t) => {
  const p = new MajorPolicy(16, 8 * MiB);
  // Floor 10 MiB; dead chunks pile up 2 MiB a collection: 19 MiB is 9 past it.
  const rising = [10, 12, 14, 16, 18, 19].map((m) => m * MiB);
  t.same(majors(p, rising), [6], 'full at 9 MiB over the floor, not before');
  // After it the floor is learned again; flat at the new level: the next periodic one 16 calls later.
  t.same(majors(p, Array(16).fill(11 * MiB)), [16]);
});

t.test('memory that stays alive at a higher level does not start one each time', async (t) => {
  const p = new MajorPolicy(16, 8 * MiB);
  t.same(majors(p, [5 * MiB, 30 * MiB]), [2], 'a jump of 25 MiB: one full collection');
  // The full collection left 30 MiB alive (a held file, a decoder's window): that is the new floor.
  t.same(majors(p, Array(10).fill(30 * MiB)), [], 'none while it stays there');
  t.same(majors(p, [39 * MiB]), [1], 'and one again once 8 MiB more piles up on top');
});
