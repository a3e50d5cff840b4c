// STUB: replaced by the tar parser.
import type { ParseFn } from './types.js';
export const parseTar: ParseFn = async function* () { throw new Error('tar: not implemented'); };
