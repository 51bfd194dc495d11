/**
 * fsyncs folders so that renames into them survive a crash, sharing one fsync among every
 * rename made before it starts: a request joins the fsync that is scheduled and not yet
 * started; one that comes while an fsync runs gets the next one (the running one may have
 * started before its rename).
 */
export class DirSync {
  private readonly running = new Map<string, Promise<void>>();
  private readonly scheduled = new Map<string, Promise<void>>();

  constructor(private readonly fsyncDir: (dir: string) => Promise<void>) {}

  /** Resolves once every rename made into `dir` before this call is durable. */
  sync(dir: string): Promise<void> {
    const waiting = this.scheduled.get(dir);
    if (waiting) return waiting;
    const before = (this.running.get(dir) ?? Promise.resolve()).catch(() => undefined);
    const next: Promise<void> = before.then(() => {
      this.scheduled.delete(dir);
      const run = this.fsyncDir(dir);
      this.running.set(dir, run);
      const forget = () => {
        if (this.running.get(dir) === run) this.running.delete(dir);
      };
      run.then(forget, forget);
      return run;
    });
    this.scheduled.set(dir, next);
    return next;
  }
}
