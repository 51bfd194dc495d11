/** One holder at a time per key, the others wait in order; different keys are independent. */
export class KeyedLock {
  /** Held keys, each with the wake-ups of those waiting for it. */
  private readonly held = new Map<string, Array<() => void>>();

  /** Resolves with a release once the key is this caller's. */
  acquire(key: string): Promise<() => void> {
    const waiters = this.held.get(key);
    if (!waiters) {
      this.held.set(key, []);
      return Promise.resolve(this.releaser(key));
    }
    return new Promise((resolve) => waiters.push(() => resolve(this.releaser(key))));
  }

  /** The key's release when nobody holds it; otherwise undefined, at once. */
  tryAcquire(key: string): (() => void) | undefined {
    if (this.held.has(key)) return undefined;
    this.held.set(key, []);
    return this.releaser(key);
  }

  /** Whether someone holds `key`. */
  busy(key: string): boolean {
    return this.held.has(key);
  }

  /** Runs `work` holding `key`. */
  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const release = await this.acquire(key);
    try {
      return await work();
    } finally {
      release();
    }
  }

  private releaser(key: string): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.held.get(key)?.shift();
      if (next) next();
      else this.held.delete(key);
    };
  }
}
