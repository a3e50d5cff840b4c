// STUB until the dump parser exports parseDumpVolumes.
import type { Entry } from '../entry.js';
import type { ParseContext } from './types.js';
export async function* parseDumpVolumes(_vols: AsyncIterable<Buffer>[], _ctx: ParseContext): AsyncGenerator<Entry> {
  throw new Error('multi-volume dump: not implemented');
}
