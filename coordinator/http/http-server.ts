import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ErrorCodes, NsmlError, errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';

/** What the HTTP server serves: the metrics text, and whether the coordinator answers. */
export interface HttpRoutes {
  /** Prometheus text exposition and its content type. */
  metrics(): Promise<{ text: string; contentType: string }>;
  /** True while the coordinator serves and its store answers. */
  healthy(): boolean;
}

export interface HttpServerOptions {
  host: string;
  /** 0 picks a free one. */
  port: number;
  routes: HttpRoutes;
  logger: Logger;
  /** How long `close()` lets requests in flight finish before cutting their connections. */
  closeGraceMs: number;
}

export interface CoordinatorHttpServer {
  readonly port: number;
  /** "http://HOST:PORT". */
  readonly url: string;
  /** Stops accepting, lets requests in flight finish (up to closeGraceMs), then cuts the rest. */
  close(): Promise<void>;
  /** Cuts every connection now. */
  destroy(): void;
}

function reply(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

async function handle(req: IncomingMessage, res: ServerResponse, o: HttpServerOptions): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return reply(res, 405, `method ${req.method ?? '?'} is not allowed; use GET or HEAD\n`, { allow: 'GET, HEAD' });
  }
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/healthz') return o.routes.healthy() ? reply(res, 200, 'ok\n') : reply(res, 503, 'not serving\n');
  if (path === '/metrics') {
    const { text, contentType } = await o.routes.metrics();
    return reply(res, 200, text, { 'content-type': contentType });
  }
  return reply(res, 404, `no page at ${path}; the coordinator serves /metrics and /healthz\n`);
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const failed = (err: Error) => {
      reject(new NsmlError(ErrorCodes.CONFIG, `cannot serve HTTP on ${host}:${port}: ${err.message}; pick another --http-port`, { cause: err }));
    };
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Starts the coordinator's HTTP server (Node's `http`, no framework); resolves once it listens. */
export async function startHttpServer(o: HttpServerOptions): Promise<CoordinatorHttpServer> {
  const server = createServer((req, res) => {
    handle(req, res, o).catch((err: unknown) => {
      o.logger.warn('http request failed', { url: req.url, error: errorMessage(err) });
      if (!res.headersSent) reply(res, 500, `could not answer: ${errorMessage(err)}\n`);
      else res.destroy();
    });
  });
  server.on('error', (err) => o.logger.warn('http server error', { error: errorMessage(err) }));
  const port = await listen(server, o.host, o.port);
  const hostInUrl = o.host.includes(':') ? `[${o.host}]` : o.host;
  let closed: Promise<void> | undefined;
  return {
    port,
    url: `http://${hostInUrl}:${port}`,
    close: () => {
      closed ??= new Promise<void>((resolve) => {
        const force = setTimeout(() => server.closeAllConnections(), o.closeGraceMs);
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      });
      return closed;
    },
    destroy: () => {
      server.close();
      server.closeAllConnections();
    },
  };
}
