import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ErrorCodes, NsmlError } from '../../common/errors.js';
import { parseSessionName } from '../../common/names.js';
import { MAX_SOCKET_PATH_BYTES } from '../bridge/protocol.js';
import { writeFileAtomic, writeFileSoft } from '../disk/soft-writes.js';

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
 * | user.json         | agent       | the account the process runs as, when not the agent's own  |
 * | workspace/        | agent       | the materialized workspace; the process's cwd              |
 * | checkpoints/      | user        | NSML_CHECKPOINT_DIR                                        |
 * | home/             | user        | HOME, when the process runs as an account of its own       |
 * | ../.sock/H/s      | bridge      | NSML_AGENT_SOCKET (see `socket`: short whatever the names) |
 * | telemetry.jsonl   | user (SDK)  | NSML_TELEMETRY_FILE: metrics, events, command results      |
 * | telpos.json       | agent       | how far the telemetry was acknowledged                     |
 *
 * When the process runs as another user (agent/run-as), the folder and every file the agent or
 * the supervisor writes are root's (0711 and 0600): the user cannot forge exit.json or child.json.
 * The user gets workspace/, checkpoints/, home/, loaded-checkpoints/, datasets/, its socket's
 * folder (all 0700) and telemetry.jsonl (0600); see runner/session-user.ts.
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

  /** HOME of a process that runs as an account of its own. */
  get home(): string {
    return join(this.root, 'home');
  }

  /** The rank's telemetry journal (agent/uplink/journal-reader.ts). */
  get telemetry(): string {
    return join(this.root, 'telemetry.jsonl');
  }

  /**
   * NSML_AGENT_SOCKET: `<sessions>/.sock/<16 hex of the folder name's hash>/s`, short whatever
   * the user and dataset names (a Unix socket path holds at most 107 bytes). The socket has a
   * folder of its own so that only the session's user can enter it.
   */
  get socket(): string {
    return shortSocketPath(dirname(this.root), basename(this.root));
  }

  readJson<T>(name: RankFile): T | undefined {
    return readJsonFile<T>(this.file(name));
  }

  /**
   * Writes atomically. A full disk does not throw: the write is kept and done once there is room
   * (agent/disk/soft-writes.ts), and the node is reported full meanwhile. Returns false then.
   */
  writeJson(name: RankFile, value: unknown): boolean {
    return writeFileSoft(this.file(name), JSON.stringify(value));
  }
}

export type RankFile =
  | 'rank.json' | 'state.json' | 'logpos.json' | 'launch.json' | 'supervisor.json' | 'child.json'
  | 'output.log' | 'exit.json' | 'supervisor.log' | 'telemetry.jsonl' | 'telpos.json' | 'user.json';

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
  writeFileAtomic(path, JSON.stringify(value));
}


/** `<sessionsDir>/.sock/<hash>/s`; throws NSML_E_CONFIG when even that is too long. */
export function shortSocketPath(sessionsDir: string, rankFolder: string): string {
  const id = createHash('sha256').update(rankFolder).digest('hex').slice(0, 16);
  const path = join(sessionsDir, '.sock', id, 's');
  const bytes = Buffer.byteLength(path);
  if (bytes > MAX_SOCKET_PATH_BYTES) {
    throw new NsmlError(
      ErrorCodes.CONFIG,
      `the SDK socket path ${path} is ${bytes} bytes, more than a Unix socket allows (${MAX_SOCKET_PATH_BYTES}); ` +
        `start the agent with a shorter --data path (at most ${MAX_SOCKET_PATH_BYTES - (bytes - Buffer.byteLength(sessionsDir)) - '/sessions'.length} bytes)`,
    );
  }
  return path;
}
