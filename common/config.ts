import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes, NsmlError, errorMessage } from './errors.js';
import { validateUser } from './names.js';

/** The default port of a coordinator. */
export const DEFAULT_PORT = 7450;

/** `$NSML_HOME`, default `~/.nsml`: client config, and the data of `nsml up`. */
export function nsmlHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.NSML_HOME && env.NSML_HOME.length > 0 ? env.NSML_HOME : join(homedir(), '.nsml');
}

export interface ClientConfig {
  coordinator?: string;
}

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(nsmlHome(env), 'config.json');
}

export function readClientConfig(env: NodeJS.ProcessEnv = process.env): ClientConfig {
  const path = configPath(env);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return {};
  }
  try {
    const parsed = JSON.parse(text) as ClientConfig;
    return typeof parsed === 'object' && parsed !== null ? parsed : {};
  } catch (err) {
    throw new NsmlError(ErrorCodes.CONFIG, `${path} is not valid JSON (${errorMessage(err)}); fix or delete it`, { cause: err });
  }
}

/** Writes the client config atomically (temp file + rename). */
export function writeClientConfig(config: ClientConfig, env: NodeJS.ProcessEnv = process.env): void {
  const path = configPath(env);
  mkdirSync(nsmlHome(env), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(config, null, 2) + '\n');
  renameSync(tmp, path);
}

/** Where the CLI finds the coordinator: NSML_COORDINATOR, else the config, else loopback. */
export function coordinatorAddress(env: NodeJS.ProcessEnv = process.env): string {
  if (env.NSML_COORDINATOR && env.NSML_COORDINATOR.length > 0) return env.NSML_COORDINATOR;
  return readClientConfig(env).coordinator ?? `127.0.0.1:${DEFAULT_PORT}`;
}

/**
 * The OS user running this process as an nsml user name (the coordinator's default admin and
 * `nsml up`'s first user): its login name when that is a valid nsml name, else `admin`.
 */
export function osUser(): string {
  try {
    return validateUser(userInfo().username);
  } catch {
    return 'admin';
  }
}

/** The acting user: NSML_USER, else the OS user. */
export function currentUser(env: NodeJS.ProcessEnv = process.env): string {
  const user = env.NSML_USER && env.NSML_USER.length > 0 ? env.NSML_USER : userInfo().username;
  return validateUser(user);
}
