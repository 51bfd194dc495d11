import { createHash } from 'node:crypto';
import { ByteBudget, FileWriter } from '../../common/blobs/file-writer.js';
import type { BlobFiles } from './blob-files.js';
import { type ChunkIn, checkChunk, corrupt, storeFailure } from './chunk-rules.js';
import { type BatchLimits, DurableBatch } from './durable-batch.js';
import { IncomingBlob } from './incoming-blob.js';
import { PendingWork } from './pending-work.js';

export interface ReceiverLimits {
  /** Bytes of chunks queued to the disk and not yet written. */
  writeBudgetBytes: number;
  /** Blobs received and not yet durable (each holds an open file). */
  pendingBlobs: number;
  /** When the blobs that arrive whole in one chunk are made durable together. */
  batch: BatchLimits;
}

/** The blobs of one Put stream, one after another, as the store takes them. */
export interface BlobReceiver {
  /**
   * Takes the stream's next chunk. Resolves once the receiver may take another (memory stays
   * bounded), usually before the bytes are durable; rejects on a chunk it refuses.
   */
  push(chunk: ChunkIn): Promise<void>;
  /** The stream ended: resolves with the blobs it completed, in order, once every one is durable and visible. */
  finish(): Promise<string[]>;
  /** The stream failed: stops; what is complete and verified still becomes durable, a partial blob stays resumable. Never rejects. */
  abort(): Promise<void>;
}

/**
 * A blob that arrives whole in one chunk (most files of a dataset) is verified in memory and
 * written to a temp file that a DurableBatch makes durable with others; a bigger one is hashed
 * as its chunks come and written to `partial/HASH`, resumable, then fsynced and placed alone.
 * Writes run in the background, so the next chunk is taken while earlier ones reach the disk.
 */
export class FileBlobReceiver implements BlobReceiver {
  private readonly budget: ByteBudget;
  private readonly batch: DurableBatch;
  private readonly pending = new PendingWork();
  private readonly stored: string[] = [];
  /** The blob whose chunks are arriving, or the hash of one whose further chunks are ignored. */
  private current: IncomingBlob | { done: string } | undefined;

  constructor(private readonly files: BlobFiles, private readonly limits: ReceiverLimits) {
    this.budget = new ByteBudget(limits.writeBudgetBytes);
    this.batch = new DurableBatch(files, limits.batch);
  }

  async push(c: ChunkIn): Promise<void> {
    if (this.pending.failure !== undefined) throw this.pending.failure;
    checkChunk(c);
    const current = this.current;
    if (current instanceof IncomingBlob && current.hash === c.hash) this.append(current, c);
    else if (current && !(current instanceof IncomingBlob) && current.done === c.hash) return;
    else await this.begin(c);
    await this.budget.below();
    const crowded = this.files.openFiles.inUse >= this.files.openFiles.limit;
    // Blobs waiting in an unflushed group would never become durable while we wait for them.
    if (crowded || this.pending.count >= this.limits.pendingBlobs) this.batch.flush();
    await this.pending.below(crowded ? 0 : this.limits.pendingBlobs);
  }

  private async begin(c: ChunkIn): Promise<void> {
    await this.park();
    // A whole blob the store has already is written again and renamed over itself: one file
    // per hash still, and no existence check on the event loop for each small blob.
    if (c.offset === 0 && c.data.length === c.size) return this.whole(c);
    if (this.files.has(c.hash)) return this.complete(c.hash, this.files.durable(c.hash));
    const incoming = await IncomingBlob.start(this.files, this.budget, c);
    if (!incoming) return this.complete(c.hash, this.files.durable(c.hash));
    this.current = incoming;
    this.append(incoming, c);
  }

  private whole(c: ChunkIn): void {
    const got = createHash('sha256').update(c.data).digest('hex');
    if (got !== c.hash) throw corrupt(c.hash, got);
    let writer: FileWriter;
    try {
      writer = FileWriter.open(this.files.tempPath(c.hash), 'w', this.budget, this.files.openFiles);
      writer.write(c.data, 0);
    } catch (err) {
      throw storeFailure(err, c.hash);
    }
    this.complete(c.hash, this.batch.add(c.hash, writer, c.data.length));
  }

  private append(incoming: IncomingBlob, c: ChunkIn): void {
    incoming.append(c);
    if (!incoming.complete) return;
    this.complete(incoming.hash, incoming.finish(this.files));
  }

  private complete(hash: string, durable: Promise<void>): void {
    this.current = { done: hash };
    this.stored.push(hash);
    this.pending.track(durable);
  }

  /** Leaves an unfinished blob resumable. */
  private async park(): Promise<void> {
    const current = this.current;
    this.current = undefined;
    if (current instanceof IncomingBlob && !current.complete) await current.park(this.files);
  }

  async finish(): Promise<string[]> {
    await this.park();
    this.batch.flush();
    await this.pending.below(0);
    if (this.pending.failure !== undefined) throw this.pending.failure;
    return this.stored;
  }

  async abort(): Promise<void> {
    await this.park().catch(() => undefined);
    this.batch.flush();
    await this.pending.below(0);
  }
}
