// STUB: replaced by the cpio parser.
import type { ParseFn } from './types.js';
export const parseCpio: ParseFn = async function* () { throw new Error('cpio: not implemented'); };
