// The hashed set of regular files behind inspect's shadow tree: membership
// through growth and deletions, and removal of whole directories' files.

import t from 'tap';
import { FileSet, dirHash } from '../src/inspect/file-set.js';

t.test('add, has, delete through several growths', async (t) => {
  const s = new FileSet();
  const key = (i: number) => `usr/share/lib/d${i % 97}/file-${i}.txt`;
  for (let i = 0; i < 100_000; i++) s.add(key(i));
  s.add(key(5));
  t.equal(s.size, 100_000, 'a key added twice counts once');
  let missing = 0;
  for (let i = 0; i < 100_000; i++) if (!s.has(key(i))) missing++;
  t.equal(missing, 0, 'every key found');
  let extra = 0;
  for (let i = 100_000; i < 200_000; i++) if (s.has(key(i))) extra++;
  t.equal(extra, 0, 'no key that was never added');
  let deleted = 0;
  for (let i = 0; i < 100_000; i += 2) if (s.delete(key(i))) deleted++;
  t.equal(deleted, 50_000);
  t.notOk(s.delete(key(0)), 'a second delete finds nothing');
  t.equal(s.size, 50_000);
  t.notOk(s.has(key(0)));
  t.ok(s.has(key(1)), 'the others stay, past the deleted slots');
  // Deleted slots are reused and dropped at the next growth.
  for (let i = 200_000; i < 400_000; i++) s.add(key(i));
  t.equal(s.size, 250_000);
  t.ok(s.has(key(399_999)) && s.has(key(99_999)) && !s.has(key(2)));
});

t.test('deleteChildrenOf: the files directly in the given directories, nothing else', async (t) => {
  const s = new FileSet();
  for (const k of ['top', 'a/f', 'a/b/f', 'a/b/c/f', 'ab/f', 'x/a/f']) s.add(k);
  s.deleteChildrenOf(new Set([dirHash('a/b'), dirHash('a/b/c')]));
  t.same(['top', 'a/f', 'a/b/f', 'a/b/c/f', 'ab/f', 'x/a/f'].map((k) => s.has(k)), [true, true, false, false, true, true]);
  s.deleteChildrenOf(new Set([dirHash('')]));
  t.notOk(s.has('top'), 'top-level files have the root as parent');
  t.equal(s.size, 3);
});
