// Entry bodies served straight from the reader, with the "skip what was not
// read" rule every pull parser needs.

import type { ByteReader } from '../source/reader.js';
import { TruncatedError } from '../errors.js';

export interface BodyHandle {
  body: () => AsyncIterable<Buffer>;
  /** Skip the unread rest of the body; call before parsing the next header. */
  finish: () => Promise<void>;
}

/** A body of `n` bytes at the reader's current position. */
export function readerBody(r: ByteReader, n: number, what = 'file data'): BodyHandle {
  let left = n;
  let started = false;
  return {
    body: () => {
      if (started) throw new Error('entry body read twice');
      started = true;
      return {
        async *[Symbol.asyncIterator]() {
          while (left > 0) {
            const before = r.position;
            const c = await r.readSome(left);
            if (c.length === 0) {
              throw new TruncatedError(`unexpected end of input in ${what}: ${left} of ${n} bytes missing`, { offset: before });
            }
            left -= c.length;
            yield c;
          }
        },
      };
    },
    finish: async () => {
      if (left > 0) {
        const k = left;
        left = 0;
        started = true;
        await r.skip(k, what);
      }
    },
  };
}
