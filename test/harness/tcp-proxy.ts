import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP proxy in front of the coordinator, so that a test can cut an agent's stream
 * (both directions, at once) without stopping either process.
 */
export class TcpProxy {
  private readonly pairs = new Set<[Socket, Socket]>();
  cuts = 0;

  private constructor(private readonly server: Server, readonly address: string) {}

  static async start(target: string): Promise<TcpProxy> {
    const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
    let proxy: TcpProxy | undefined;
    const server = createServer((client) => {
      const upstream = createConnection({ host, port });
      const pair: [Socket, Socket] = [client, upstream];
      proxy!.pairs.add(pair);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        proxy!.pairs.delete(pair);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const addr = server.address();
    if (addr === null || typeof addr === 'string') throw new Error('the proxy has no TCP address');
    proxy = new TcpProxy(server, `127.0.0.1:${addr.port}`);
    return proxy;
  }

  /** Resets every connection through the proxy; new ones are accepted as before. */
  cut(): void {
    this.cuts += 1;
    for (const [a, b] of [...this.pairs]) {
      a.resetAndDestroy();
      b.resetAndDestroy();
    }
    this.pairs.clear();
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
