import { resolve } from 'node:path';
import { systemClock, type Clock } from '../common/clock.js';
import { DEFAULT_PORT, osUser } from '../common/config.js';
import { ErrorCodes, NsmlError, errorMessage } from '../common/errors.js';
import { compileServerTls, type ServerTls, type ServerTlsOptions } from '../common/grpc/credentials.js';
import { createLogger, type Logger } from '../common/log.js';
import { validateUser } from '../common/names.js';
import { policies } from './scheduler/index.js';
import type { Decide } from './scheduler/types.js';
import { DEFAULT_USAGE_HALF_LIFE_MS } from './sessions/usage-ledger.js';

/** Policies a coordinator may run (`nsml coordinator --policy`); sjf-oracle needs true run times, so only the simulator has it. */
export const COORDINATOR_POLICIES: readonly string[] = ['default', 'backfill', 'first-fit', 'fifo'];

/** How to run a coordinator. Every duration is in milliseconds. */
export interface CoordinatorOptions {
  /** Where the SQLite state, the blobs and coordinator.json live. Required. */
  dataDir: string;
  /** Interface to listen on; default 127.0.0.1 (loopback only). */
  host?: string;
  /** Port to listen on; default DEFAULT_PORT (7450); 0 picks a free one. */
  port?: number;
  /**
   * Port of the HTTP server (`GET /metrics` in Prometheus text, `GET /healthz`); default: no HTTP
   * server; 0 picks a free one. /metrics carries no token: keep it on a trusted network.
   */
  httpPort?: number;
  /** Interface of the HTTP server; default 127.0.0.1 (loopback only). */
  httpHost?: string;
  /** How often agents send heartbeats; default 2000, or a third of a shorter timeout. */
  heartbeatIntervalMs?: number;
  /** A node silent for this long is down and its sessions lost; default 15000. */
  heartbeatTimeoutMs?: number;
  /** Time between SIGTERM and SIGKILL when stopping a session; default 10000. */
  stopGraceMs?: number;
  /** Period of the scheduling pass (one also runs after every change); default 1000. */
  scheduleIntervalMs?: number;
  /** When set, agents must present this token in `register`. */
  joinToken?: string;
  /** The scheduling policy by name (COORDINATOR_POLICIES); default `default`. */
  policy?: string;
  /** A scheduling policy function; overrides `policy` (tests, tuned policies). */
  decide?: Decide;
  /** Half-life of the decayed GPU usage behind fair share; default 7 days. */
  usageHalfLifeMs?: number;
  /** Period of the collection of unreferenced blobs; default 6 h; 0 turns the schedule off. */
  gcIntervalMs?: number;
  /** An unreferenced blob is collected only once its file is older than this; default 1 h. */
  gcGraceMs?: number;
  /** How long a blob asked about by Has (or stored by Put) stays held for an upload that never registers a manifest; default 6 h. */
  uploadLeaseMs?: number;
  /**
   * Admin users, made so at every start (admins may do everything: see every session, add users,
   * drain nodes, collect garbage); default: the OS user running the coordinator. The first one's
   * token is kept in `<data>/admin-token` (coordinator/auth/bootstrap.ts).
   */
  admins?: string[];
  /** Listen with TLS (mutual with `clientCa`); default plaintext. The files are read and checked at start. */
  tls?: ServerTlsOptions;
  logger?: Logger;
  clock?: Clock;
}

export interface CompiledCoordinatorOptions {
  dataDir: string;
  host: string;
  port: number;
  /** undefined: no HTTP server. */
  httpPort: number | undefined;
  httpHost: string;
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  stopGraceMs: number;
  scheduleIntervalMs: number;
  joinToken: string | undefined;
  /** The policy's name as `nsml queue` shows it ('custom' for a `decide` function). */
  policy: string;
  decide: Decide;
  usageHalfLifeMs: number;
  gcIntervalMs: number;
  gcGraceMs: number;
  uploadLeaseMs: number;
  admins: readonly string[];
  /** undefined: plaintext. */
  tls: ServerTls | undefined;
  logger: Logger;
  clock: Clock;
}

function positive(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v <= 0) {
    throw new NsmlError(ErrorCodes.CONFIG, `coordinator option ${name} must be a positive number of milliseconds; got ${String(value)}`);
  }
  return v;
}

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v < 0) {
    throw new NsmlError(ErrorCodes.CONFIG, `coordinator option ${name} must be 0 or a positive number of milliseconds; got ${String(value)}`);
  }
  return v;
}

/** Validates the options once and fills the defaults. */
export function compileCoordinatorOptions(options: CoordinatorOptions): CompiledCoordinatorOptions {
  if (typeof options.dataDir !== 'string' || options.dataDir.length === 0) {
    throw new NsmlError(ErrorCodes.CONFIG, 'coordinator option dataDir is required (the folder for its state and blobs)');
  }
  const port = options.port ?? DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new NsmlError(ErrorCodes.CONFIG, `coordinator option port must be an integer from 0 to 65535; got ${String(options.port)}`);
  }
  if (options.httpPort !== undefined && (!Number.isInteger(options.httpPort) || options.httpPort < 0 || options.httpPort > 65535)) {
    throw new NsmlError(ErrorCodes.CONFIG, `coordinator option httpPort must be an integer from 0 to 65535; got ${String(options.httpPort)}; leave it out for no HTTP server`);
  }
  const heartbeatTimeoutMs = positive('heartbeatTimeoutMs', options.heartbeatTimeoutMs, 15000);
  const heartbeatIntervalMs = positive('heartbeatIntervalMs', options.heartbeatIntervalMs, Math.min(2000, Math.floor(heartbeatTimeoutMs / 3)));
  if (heartbeatTimeoutMs <= heartbeatIntervalMs) {
    throw new NsmlError(
      ErrorCodes.CONFIG,
      `heartbeatTimeoutMs (${heartbeatTimeoutMs}) must be larger than heartbeatIntervalMs (${heartbeatIntervalMs}); use several intervals`,
    );
  }
  if (options.joinToken !== undefined && options.joinToken.length === 0) {
    throw new NsmlError(ErrorCodes.CONFIG, 'coordinator option joinToken must not be empty; leave it out to accept any agent');
  }
  return {
    dataDir: resolve(options.dataDir),
    host: options.host ?? '127.0.0.1',
    port,
    httpPort: options.httpPort,
    httpHost: options.httpHost ?? '127.0.0.1',
    heartbeatIntervalMs,
    heartbeatTimeoutMs,
    stopGraceMs: nonNegative('stopGraceMs', options.stopGraceMs, 10000),
    scheduleIntervalMs: positive('scheduleIntervalMs', options.scheduleIntervalMs, 1000),
    joinToken: options.joinToken,
    ...compilePolicy(options),
    usageHalfLifeMs: positive('usageHalfLifeMs', options.usageHalfLifeMs, DEFAULT_USAGE_HALF_LIFE_MS),
    gcIntervalMs: nonNegative('gcIntervalMs', options.gcIntervalMs, 6 * HOUR_MS),
    gcGraceMs: nonNegative('gcGraceMs', options.gcGraceMs, HOUR_MS),
    uploadLeaseMs: positive('uploadLeaseMs', options.uploadLeaseMs, 6 * HOUR_MS),
    admins: compileAdmins(options.admins),
    tls: compileServerTls(options.tls),
    logger: options.logger ?? createLogger({ component: 'coordinator' }),
    clock: options.clock ?? systemClock,
  };
}

const HOUR_MS = 3_600_000;

function compileAdmins(admins: string[] | undefined): readonly string[] {
  if (admins === undefined) return [osUser()];
  try {
    return [...new Set(admins.map(validateUser))];
  } catch (err) {
    throw new NsmlError(ErrorCodes.CONFIG, `coordinator option admins must be user names: ${errorMessage(err)}`, { cause: err });
  }
}

function compilePolicy(options: CoordinatorOptions): { policy: string; decide: Decide } {
  if (options.decide) return { policy: options.policy ?? 'custom', decide: options.decide };
  const policy = options.policy ?? 'default';
  const decide = COORDINATOR_POLICIES.includes(policy) ? policies[policy] : undefined;
  if (!decide) {
    throw new NsmlError(ErrorCodes.CONFIG, `unknown scheduling policy ${JSON.stringify(policy)}; use one of ${COORDINATOR_POLICIES.join(', ')}`);
  }
  return { policy, decide };
}
