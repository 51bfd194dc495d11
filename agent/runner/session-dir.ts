import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCodes, NsmlError } from '../../common/errors.js';
import { parseSessionName } from '../../common/names.js';

/**
 * The folder of one rank of one session epoch on this node, and the files in it:
 *
 * | file              | written by  | holds                                                      |
 * |-------------------|-------------|------------------------------------------------------------|
 * | rank.json         | agent       | the start request (RankSpec), once                         |
 * | state.json        | agent       | the rank's lifecycle record (RankRecord)                   |
 * | logpos.json       | agent       | how far the log was acknowledged, to resume shipping       |
 * | launch.json       | agent       | argv, cwd and env for the supervisor                       |
 * | supervisor.json   | supervisor  | its pid and start time                                     |
 * | child.json        | supervisor  | the user process's pid, process group and start time       |
 * | output.log        | supervisor  | stdout and stderr as frames (see supervisor.py)            |
 * | exit.json         | supervisor  | exit code or signal, written once output.log is complete   |
 * | supervisor.log    | supervisor  | the supervisor's own errors                                |
 * | workspace/        | agent       | the materialized workspace; the process's cwd              |
 * | checkpoints/      | user        | NSML_CHECKPOINT_DIR                                        |
 * | bridge.sock       | bridge      | NSML_AGENT_SOCKET                                          |
 */
export class SessionDir {
  constructor(readonly root: string) {}

  static forRank(sessionsDir: string, session: string, epoch: number, rank: number): SessionDir {
    return new SessionDir(join(sessionsDir, rankDirName(session, epoch, rank)));
  }

  file(name: RankFile): string {
    return join(this.root, name);
  }

  get workspace(): string {
    return join(this.root, 'workspace');
  }

  get checkpoints(): string {
    return join(this.root, 'checkpoints');
  }

  get socket(): string {
    return join(this.root, 'bridge.sock');
  }

  readJson<T>(name: RankFile): T | undefined {
    return readJsonFile<T>(this.file(name));
  }

  writeJson(name: RankFile, value: unknown): void {
    writeJsonAtomic(this.file(name), value);
  }
}

export type RankFile =
  | 'rank.json' | 'state.json' | 'logpos.json' | 'launch.json' | 'supervisor.json' | 'child.json'
  | 'output.log' | 'exit.json' | 'supervisor.log';

/** `USER+DATASET+N+eEPOCH+rRANK`: '+' never occurs in a valid session name. */
export function rankDirName(session: string, epoch: number, rank: number): string {
  const name = parseSessionName(session);
  if (!Number.isSafeInteger(epoch) || epoch < 0 || !Number.isInteger(rank) || rank < 0) {
    throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `expected a non-negative epoch and rank for ${session}; got epoch ${epoch}, rank ${rank}`);
  }
  return `${name.user}+${name.dataset}+${name.n}+e${epoch}+r${rank}`;
}

export function readJsonFile<T>(path: string): T | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

/** Temp file + rename: a reader sees the old content or the new, never a torn write. */
export function writeJsonAtomic(path: string, value: unknown): void {
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, JSON.stringify(value));
  renameSync(tmp, path);
}
