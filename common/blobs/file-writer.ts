import { close, fsync, open, write } from 'node:fs';
import { promisify } from 'node:util';

const writeAsync = promisify(write);
const fsyncAsync = promisify(fsync);
const closeAsync = promisify(close);
const openAsync = promisify(open);

/**
 * Bytes queued to disks and not yet written, shared by the writers of one stream, so that a
 * stream never holds more than `limit` bytes of chunks in memory while they are written.
 */
export class ByteBudget {
  private used = 0;
  private waiters: Array<() => void> = [];

  constructor(readonly limit: number) {}

  get inUse(): number {
    return this.used;
  }

  take(bytes: number): void {
    this.used += bytes;
  }

  give(bytes: number): void {
    this.used -= bytes;
    if (this.used >= this.limit) return;
    const ready = this.waiters;
    this.waiters = [];
    for (const wake of ready) wake();
  }

  /** Resolves once less than `limit` bytes are in use. */
  async below(): Promise<void> {
    while (this.used >= this.limit) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }
}

/**
 * One open file written at explicit positions: each `write` is queued on the thread pool at
 * once (several may run together) and the caller goes on; `flush` waits for all of them and
 * reports the first failure. The caller writes each byte range once.
 */
export class FileWriter {
  private readonly pending = new Set<Promise<void>>();
  private failure: unknown;
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly opened: Promise<number>,
    private readonly budget: ByteBudget,
    private readonly handles: ByteBudget | undefined,
  ) {
    handles?.take(1);
    // A failed open surfaces through the first write, flush or close.
    opened.catch((err: unknown) => {
      this.failure ??= err;
    });
  }

  /**
   * Opens `path` with `flags` ('w', 'r+', …) on the thread pool; writes may be queued at once.
   * The open runs off the event loop: creating a file can wait on the file system's journal.
   * `handles`, when given, counts the writer as one open file until it is closed.
   */
  static open(path: string, flags: string, budget: ByteBudget, handles?: ByteBudget): FileWriter {
    return new FileWriter(path, openAsync(path, flags), budget, handles);
  }

  /** The open file descriptor (rejects when the open failed). */
  fd(): Promise<number> {
    return this.opened;
  }

  /** Whether a queued write failed (the file's bytes are not what was written). */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** Queues `data` at `position`; the bytes must stay unchanged until written. */
  write(data: Uint8Array, position: number): void {
    if (this.failure !== undefined) throw this.failure;
    if (data.length === 0) return;
    this.budget.take(data.length);
    const p = this.opened
      .then((fd) => writeAll(fd, data, position))
      .catch((err: unknown) => {
        this.failure ??= err;
      })
      .finally(() => {
        this.budget.give(data.length);
        this.pending.delete(p);
      });
    this.pending.add(p);
  }

  /** Waits for every queued write; throws the first that failed. */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
    if (this.failure !== undefined) throw this.failure;
  }

  /** Writes everything queued, then fsyncs (with `fsyncFd` when given). */
  async sync(fsyncFd: (fd: number) => Promise<void> = fsyncAsync): Promise<void> {
    await this.flush();
    await fsyncFd(await this.opened);
  }

  /** Waits for the queued writes (ignoring their failures when `force`), then closes; idempotent. */
  async close(force = false): Promise<void> {
    if (this.closed) return;
    let failure: unknown;
    try {
      await this.flush();
    } catch (err) {
      failure = err;
    }
    if (this.closed) return;
    this.closed = true;
    try {
      const fd = await this.opened.catch(() => undefined);
      if (fd !== undefined) await closeAsync(fd);
    } finally {
      this.handles?.give(1);
    }
    if (failure !== undefined && !force) throw failure;
  }
}

async function writeAll(fd: number, data: Uint8Array, position: number): Promise<void> {
  for (let done = 0; done < data.length;) {
    done += (await writeAsync(fd, data, done, data.length - done, position + done)).bytesWritten;
  }
}
