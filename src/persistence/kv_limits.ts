/**
 * Deno KV's limits as this service uses them, defined once for every KV writer (the snapshot store, the
 * transitions log and the shared points): KV allows 1,000 mutations and 800 KiB a commit and 64 KiB a value;
 * commits here stay at half those figures, which leaves room for key overhead and estimation error.
 */

/** Most mutations (sets, deletes, checks) in one atomic commit (KV allows 1,000). */
export const KV_COMMIT_MUTATIONS = 500;
/** Most estimated bytes (keys and values) in one atomic commit (KV allows 800 KiB). */
export const KV_COMMIT_BYTES = 400 * 1024;

/** UTF-8 length of `text`, over-counting surrogate pairs (6 bytes rather than 4): for commit-size estimates. */
export function utf8Bytes(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) bytes += c >= 0x800 ? 2 : 1;
  }
  return bytes;
}
