import type { FileWriter } from '../../common/blobs/file-writer.js';
import type { BlobFiles } from './blob-files.js';
import { storeFailure } from './chunk-rules.js';

interface Item {
  hash: string;
  writer: FileWriter;
}

interface Group {
  items: Item[];
  bytes: number;
  done: Promise<void>;
  settle: (err?: unknown) => void;
}

export interface BatchLimits {
  /** A group is flushed once it holds this many blobs… */
  blobs: number;
  /** …or this many bytes. */
  bytes: number;
}

/**
 * Makes verified blobs, each written to its own temp file, durable and visible in groups:
 * fsyncs every file of a group together, renames them, then fsyncs their folders once. This
 * spreads the cost of durability over many small blobs; none is visible before its own bytes
 * are fsynced, and a group resolves only once its renames are durable.
 */
export class DurableBatch {
  private group: Group = newGroup();

  constructor(private readonly files: BlobFiles, private readonly limits: BatchLimits) {}

  /** Adds a verified blob in its temp file (writes may still be queued); resolves once it is durable and visible. */
  add(hash: string, writer: FileWriter, bytes: number): Promise<void> {
    const group = this.group;
    group.items.push({ hash, writer });
    group.bytes += bytes;
    if (group.items.length >= this.limits.blobs || group.bytes >= this.limits.bytes) this.flush();
    return group.done;
  }

  /** Starts making what was added durable. */
  flush(): void {
    const group = this.group;
    if (group.items.length === 0) return;
    this.group = newGroup();
    this.commit(group.items).then(() => group.settle(), (err: unknown) => group.settle(err));
  }

  private async commit(items: Item[]): Promise<void> {
    const synced = await Promise.allSettled(items.map(async ({ writer }) => {
      await writer.sync((fd) => this.files.disk.file(fd));
      await writer.close();
    }));
    const failed = synced.findIndex((r) => r.status === 'rejected');
    if (failed >= 0) {
      await Promise.all(items.map(({ writer }) => writer.close(true).catch(() => undefined)));
      for (const { writer } of items) this.files.discard(writer.path);
      throw storeFailure((synced[failed] as PromiseRejectedResult).reason, items[failed]!.hash);
    }
    const placed = items.map(({ hash, writer }) => this.files.place(hash, writer.path).catch((err: unknown) => {
      this.files.discard(writer.path);
      throw storeFailure(err, hash);
    }));
    const results = await Promise.allSettled(placed);
    const first = results.find((r) => r.status === 'rejected');
    if (first) throw (first as PromiseRejectedResult).reason;
  }
}

function newGroup(): Group {
  let settle!: (err?: unknown) => void;
  const done = new Promise<void>((resolve, reject) => {
    settle = (err) => (err === undefined ? resolve() : reject(err));
  });
  // A group nobody awaits (its stream failed first) must not become an unhandled rejection.
  done.catch(() => undefined);
  return { items: [], bytes: 0, done, settle };
}
