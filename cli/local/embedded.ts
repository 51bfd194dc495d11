import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readClientConfig, writeClientConfig } from '../../common/config.js';
import { ErrorCodes, NsmlError, errorMessage, isNsmlError } from '../../common/errors.js';
import { CoordinatorClient } from '../client.js';
import { sleep } from '../../common/sleep.js';
import type { LocalPaths } from './paths.js';
import { isNsmlProcess, readPid, tailFile } from './processes.js';

/** What `nsml status` reports about the embedded cluster. */
export interface EmbeddedStatus {
  up: boolean;
  address: string | undefined;
  coordinator: { pid: number | undefined; running: boolean; serving: boolean };
  agent: { pid: number | undefined; running: boolean };
}

export function readUpState(paths: LocalPaths): { address: string; port: number; httpPort?: number } | undefined {
  try {
    const parsed = JSON.parse(readFileSync(paths.upState, 'utf8')) as { address?: unknown; port?: unknown; httpPort?: unknown };
    if (typeof parsed.address !== 'string' || typeof parsed.port !== 'number') return undefined;
    return { address: parsed.address, port: parsed.port, ...(typeof parsed.httpPort === 'number' ? { httpPort: parsed.httpPort } : {}) };
  } catch {
    return undefined;
  }
}

/** `httpPort`: the coordinator's /metrics port, when it serves HTTP. */
export function writeUpState(paths: LocalPaths, address: string, port: number, httpPort?: number): void {
  mkdirSync(dirname(paths.upState), { recursive: true });
  writeFileSync(paths.upState, JSON.stringify({ address, port, ...(httpPort === undefined ? {} : { httpPort }) }) + '\n');
}

/** Points the CLI at `address` in $NSML_HOME/config.json, keeping other settings. */
export function rememberAddress(env: NodeJS.ProcessEnv, address: string): void {
  writeClientConfig({ ...readClientConfig(env), coordinator: address }, env);
}

export async function embeddedStatus(paths: LocalPaths, env: NodeJS.ProcessEnv): Promise<EmbeddedStatus> {
  const coordinatorPid = readPid(paths.coordinatorPid);
  const agentPid = localAgentPid(paths);
  const address = readUpState(paths)?.address;
  const coordinatorRunning = isNsmlProcess(coordinatorPid);
  const serving = coordinatorRunning && address !== undefined && (await isServing(address, env));
  const agentRunning = isNsmlProcess(agentPid);
  return {
    up: serving && agentRunning,
    address,
    coordinator: { pid: coordinatorPid, running: coordinatorRunning, serving },
    agent: { pid: agentPid, running: agentRunning },
  };
}

/**
 * The local agent's pid: the one `nsml up` started, or else one started by hand on the same data
 * folder after the first died (it holds the folder's lock).
 */
export function localAgentPid(paths: LocalPaths): number | undefined {
  const started = readPid(paths.agentPid);
  return isNsmlProcess(started) ? started : lockHolder(paths.agentData) ?? started;
}

/** The pid in the agent's data lock (`agent.lock`, written by every agent on that folder) when it runs. */
function lockHolder(agentData: string): number | undefined {
  try {
    const pid = (JSON.parse(readFileSync(join(agentData, 'agent.lock'), 'utf8')) as { pid?: unknown }).pid;
    return typeof pid === 'number' && isNsmlProcess(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** One health check: true when the coordinator at `address` answers SERVING. */
export async function isServing(address: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  const client = new CoordinatorClient({ address, env, connectTimeoutMs: 2_000 });
  try {
    return (await client.health()) === 'SERVING';
  } catch {
    return false;
  } finally {
    client.close();
  }
}

export interface WaitReadyOptions {
  address: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  /** The process being waited on; waiting stops early if it dies. */
  pid?: number;
  logFile: string;
  what: string;
  signal?: AbortSignal;
}

/** Polls `check` until it holds; fails early (with the log's tail) if the process dies. */
export async function waitUntil(check: (client: CoordinatorClient) => Promise<boolean>, options: WaitReadyOptions): Promise<void> {
  const until = Date.now() + options.timeoutMs;
  const client = new CoordinatorClient({ address: options.address, env: options.env, connectTimeoutMs: 1_000 });
  let lastError = '';
  try {
    while (Date.now() < until && !options.signal?.aborted) {
      if (options.pid !== undefined && !isNsmlProcess(options.pid)) {
        throw new NsmlError(ErrorCodes.SPAWN_FAILED, `the ${options.what} exited during start-up; ${options.logFile} ends with:\n${tailFile(options.logFile)}`);
      }
      try {
        if (await check(client)) return;
      } catch (err) {
        if (isNsmlError(err, ErrorCodes.SPAWN_FAILED)) throw err;
        lastError = errorMessage(err);
      }
      await sleep(200, options.signal);
    }
  } finally {
    client.close();
  }
  throw new NsmlError(
    ErrorCodes.TIMEOUT,
    `the ${options.what} was not ready after ${options.timeoutMs} ms${lastError ? ` (${lastError})` : ''}; see ${options.logFile}`,
  );
}
