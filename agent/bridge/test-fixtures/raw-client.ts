import { createConnection, type Socket } from 'node:net';

/** A bare socket client speaking lines, to test the server with anything, garbage included. */
export class RawClient {
  readonly lines: unknown[] = [];
  closed = false;
  private buffer = '';
  private waiters: Array<() => void> = [];

  private constructor(readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      this.buffer += text;
      let i: number;
      while ((i = this.buffer.indexOf('\n')) >= 0) {
        this.lines.push(JSON.parse(this.buffer.slice(0, i)));
        this.buffer = this.buffer.slice(i + 1);
      }
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static connect(path: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = createConnection(path, () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  send(message: unknown): void {
    this.socket.write(typeof message === 'string' ? message : JSON.stringify(message) + '\n');
  }

  async hello(rank = 0): Promise<unknown> {
    this.send({ type: 'hello', v: 1, sdk: 'raw/0', pid: process.pid, rank, session: '' });
    return this.next((m) => (m as { type?: string }).type === 'welcome');
  }

  /** The first received line matching `predicate` (waits for it). */
  async next(predicate: (m: unknown) => boolean): Promise<unknown> {
    for (;;) {
      const found = this.lines.find(predicate);
      if (found !== undefined) return found;
      if (this.closed) throw new Error(`closed before a matching line; got ${JSON.stringify(this.lines)}`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  async untilClosed(): Promise<void> {
    while (!this.closed) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  close(): void {
    this.socket.destroy();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}
