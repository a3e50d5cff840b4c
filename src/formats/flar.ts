// STUB: replaced by the flar parser.
import type { ParseFn } from './types.js';
export const parseFlar: ParseFn = async function* () { throw new Error('flar: not implemented'); };
