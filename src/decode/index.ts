// STUB: replaced by the decode stage.
export type Compression = 'gzip' | 'bzip2' | 'xz' | 'compress';
export interface Decoded { layers: Compression[]; data: AsyncIterable<Buffer> }
export async function decodeStream(src: AsyncIterable<Buffer>, _opts: { signal?: AbortSignal } = {}): Promise<Decoded> {
  return { layers: [], data: src };
}
