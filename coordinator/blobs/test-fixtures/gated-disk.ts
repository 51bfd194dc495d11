import { realDiskSync, type DiskSync } from '../disk-sync.js';

/**
 * A DiskSync that holds every fsync until the test lets it through, and counts them: shows
 * what the store does before its bytes are durable. The fsyncs themselves are the real ones.
 */
export class GatedDisk implements DiskSync {
  fileSyncs = 0;
  dirSyncs = 0;
  private held: Array<() => boolean> = [];
  private open = { file: false, dir: false };

  file(fd: number): Promise<void> {
    return this.gate('file', () => {
      this.fileSyncs++;
      return realDiskSync.file(fd);
    });
  }

  dir(path: string): Promise<void> {
    return this.gate('dir', () => {
      this.dirSyncs++;
      return realDiskSync.dir(path);
    });
  }

  /** Lets the file fsyncs (held and later ones) through. */
  openFiles(): void {
    this.open.file = true;
    this.releaseAll();
  }

  /** Lets the folder fsyncs (held and later ones) through. */
  openDirs(): void {
    this.open.dir = true;
    this.releaseAll();
  }

  /** How many fsyncs wait. */
  get waiting(): number {
    return this.held.length;
  }

  private gate(kind: 'file' | 'dir', run: () => Promise<void>): Promise<void> {
    if (this.open[kind]) return run();
    return new Promise<void>((resolve, reject) => {
      const go = () => {
        if (!this.open[kind]) return false;
        run().then(resolve, reject);
        return true;
      };
      this.held.push(go);
    });
  }

  private releaseAll(): void {
    const held = this.held;
    this.held = [];
    for (const go of held) if (!go()) this.held.push(go);
  }
}

/** Resolves once `done()` holds; fails after `timeoutMs`. */
export async function until(done: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > end) throw new Error('the awaited condition never held');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
