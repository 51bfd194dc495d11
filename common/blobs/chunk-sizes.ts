/**
 * Chunk sizes of the blob path. Big chunks cut the per-message work (framing, copies, system
 * calls) that bounds throughput; every size stays well under MAX_MESSAGE_BYTES
 * (common/grpc/options.ts), so any client with the shared channel options can take them.
 */

/** Data bytes per chunk a client sends in a Put, and per read of a blob file. */
export const PUT_CHUNK_BYTES = 4 * 1024 * 1024;

/** Data bytes per chunk the store sends in a Get. */
export const GET_CHUNK_BYTES = 4 * 1024 * 1024;

/** The largest chunk the store accepts (clients of an older release send 1 MiB ones). */
export const MAX_CHUNK_BYTES = 8 * 1024 * 1024;

/** Bytes a writer may have queued to the disk and not yet written, per stream. */
export const WRITE_BUDGET_BYTES = 16 * 1024 * 1024;
