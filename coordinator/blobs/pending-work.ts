/** Background promises of one stream: how many are open, and the first that failed. */
export class PendingWork {
  private open = 0;
  private firstFailure: unknown;
  private waiters: Array<() => void> = [];

  get count(): number {
    return this.open;
  }

  get failure(): unknown {
    return this.firstFailure;
  }

  track(work: Promise<unknown>): void {
    this.open++;
    work.then(
      () => this.settled(),
      (err: unknown) => {
        this.firstFailure ??= err;
        this.settled();
      },
    );
  }

  /** Resolves once fewer than `limit` are open (0: once none is). */
  async below(limit: number): Promise<void> {
    while (this.open > Math.max(0, limit - 1)) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  private settled(): void {
    this.open--;
    const ready = this.waiters;
    this.waiters = [];
    for (const wake of ready) wake();
  }
}
