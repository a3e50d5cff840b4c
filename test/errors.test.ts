// How an error names where it happened: entry, ordinal, offset, remedy.

import t from 'tap';
import { ArchiveError } from '../src/errors.js';

t.test('an archive entry: name, ordinal, offset and the remedy', async (t) => {
  const e = new ArchiveError('bad-size', 'size field is not a valid number', { entry: 'etc/passwd', index: 3, offset: 1536 }, 'the archive is damaged');
  t.equal(e.message, 'entry "etc/passwd" #3 at offset 1536: size field is not a valid number (the archive is damaged)');
});

t.test('an entry p2v added (index and offset -1) says so instead of "#-1 at offset -1"', async (t) => {
  const e = new ArchiveError('io-error', 'EACCES', { entry: 'var/log/web1.p2v.log', index: -1, offset: -1 });
  t.equal(e.message, 'entry "var/log/web1.p2v.log" (added by p2v): EACCES');
  t.equal(new ArchiveError('x', 'm', { offset: 0 }).message, 'at offset 0: m', 'offset 0 is an offset');
});
