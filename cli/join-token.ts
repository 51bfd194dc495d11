import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readJoinTokenFile } from '../agent/join-token-file.js';
import { usageError } from './flags.js';
import type { CliIo } from './io.js';

/** The join-token flags of `nsml agent` and `nsml coordinator`. */
export interface JoinTokenValues {
  'join-token'?: string;
  'join-token-file'?: string;
}

/**
 * The join token: from --join-token-file (mode-checked), else --join-token, else $NSML_JOIN_TOKEN
 * (each of the last two with a warning: a command line is readable by every local user in
 * /proc/PID/cmdline, an environment by the process's user in /proc/PID/environ). The variable is
 * removed from this process's environment once read, so that no child inherits it.
 */
export function joinTokenOf(values: JoinTokenValues, io: CliIo, command: 'agent' | 'coordinator' = 'agent'): string | undefined {
  const fromEnv = io.env.NSML_JOIN_TOKEN || undefined;
  delete io.env.NSML_JOIN_TOKEN;
  delete process.env.NSML_JOIN_TOKEN;
  const file = values['join-token-file'];
  if (file !== undefined) {
    if (values['join-token'] !== undefined) throw usageError('give --join-token-file or --join-token, not both', command);
    return readJoinTokenFile(resolve(io.cwd, file));
  }
  if (values['join-token'] !== undefined) {
    io.err(`nsml ${command}: warning: --join-token is visible to every user of this machine in /proc/PID/cmdline; write it to a file (chmod 600) and pass --join-token-file\n`);
    return values['join-token'];
  }
  if (fromEnv !== undefined) {
    io.err(`nsml ${command}: warning: NSML_JOIN_TOKEN stays readable in /proc/PID/environ of this ${command}; prefer --join-token-file (it was removed from the environment its children get)\n`);
  }
  return fromEnv;
}

/**
 * The token file a systemd unit passes: the one given with --join-token-file, or
 * `<output>/nsml-<command>.join-token` (mode 600) written from --join-token or $NSML_JOIN_TOKEN.
 */
export function serviceTokenFile(values: JoinTokenValues, io: CliIo, output: string, command: 'agent' | 'coordinator'): string | undefined {
  if (values['join-token-file'] !== undefined) return resolve(io.cwd, values['join-token-file']);
  const token = values['join-token'] ?? (io.env.NSML_JOIN_TOKEN || undefined);
  if (token === undefined) return undefined;
  const path = join(output, `nsml-${command}.join-token`);
  mkdirSync(output, { recursive: true });
  writeFileSync(path, `${token}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
  return path;
}
