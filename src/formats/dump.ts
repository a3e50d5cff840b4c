// STUB: replaced by the dump parser.
import type { ParseFn } from './types.js';
export const parseDump: ParseFn = async function* () { throw new Error('dump: not implemented'); };
