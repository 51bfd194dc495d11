import { mkdir } from 'node:fs/promises';
import type { Logger } from '../../common/log.js';
import { startBridgeServer, type BridgeServer } from '../bridge/bridge-server.js';
import { startCheckpointWatcher, type CheckpointWatcher } from '../bridge/checkpoint-watcher.js';
import type { BridgeCommand, CommandResult } from '../bridge/protocol.js';
import type { RankSpec } from '../runner/rank-spec.js';
import type { SessionDir } from '../runner/session-dir.js';
import { sessionUserOf } from '../runner/session-user.js';
import type { RankHandler } from './rank-handler.js';
import { SeenCommands } from './seen-commands.js';

export interface RankBridgeOptions {
  handler: RankHandler;
  logger: Logger;
  /** A framework's checkpoint counts as written after this long without changes. Default 2,000 ms. */
  watcherStableMs?: number;
}

/**
 * What serves one rank's script while it runs: the bridge socket named by NSML_AGENT_SOCKET,
 * the watcher of NSML_CHECKPOINT_DIR, and the ids of the commands already handed to it.
 */
export class RankBridge {
  private constructor(
    readonly server: BridgeServer,
    private readonly watcher: CheckpointWatcher,
    readonly handler: RankHandler,
    readonly seen: SeenCommands,
  ) {}

  /** Listens on the rank's socket (replacing a stale one) and watches its checkpoint folder. */
  static async open(spec: RankSpec, dir: SessionDir, seen: SeenCommands, options: RankBridgeOptions): Promise<RankBridge> {
    const logger = options.logger.child({ session: spec.session, epoch: spec.epoch, rank: spec.rank });
    await mkdir(dir.checkpoints, { recursive: true });
    const user = sessionUserOf(dir);
    const server = await startBridgeServer({
      socketPath: user ? dir.socket : launchedSocket(dir) ?? dir.socket, session: spec.session, checkpointDir: dir.checkpoints, handler: options.handler, logger,
      ...(user ? { owner: { uid: user.uid, gid: user.gid } } : {}), // only the session's user may connect
    });
    let watcher: CheckpointWatcher;
    try {
      watcher = await startCheckpointWatcher({
        dir: dir.checkpoints,
        register: (r) => options.handler.saveCheckpoint(r),
        logger,
        ...(options.watcherStableMs !== undefined ? { stableMs: options.watcherStableMs } : {}),
      });
    } catch (err) {
      server.destroy();
      options.handler.close();
      throw err;
    }
    seen.attach(dir.root);
    return new RankBridge(server, watcher, options.handler, seen);
  }

  /** Hands a command to the script (queued by the server until the script connects). */
  send(command: BridgeCommand): void {
    this.server.sendCommand(command);
    this.seen.add(command.id);
  }

  /** True while a script is connected (said hello) on the rank's socket. */
  get connected(): boolean {
    return this.server.getStatus().ready > 0;
  }

  /**
   * Sends a command of the agent's own to the connected script and waits up to `timeoutMs` for
   * its result; undefined when none came in time or the bridge closed first.
   */
  async ask(command: BridgeCommand, timeoutMs: number): Promise<CommandResult | undefined> {
    const result = this.handler.ownResult(command.id);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), Math.max(0, timeoutMs));
    });
    try {
      this.send(command);
      return await Promise.race([result, late]);
    } finally {
      clearTimeout(timer);
      this.handler.forgetOwn(command.id);
    }
  }

  /** Stops watching (after the registrations in flight), closes the socket, then the handler. */
  async close(graceMs: number): Promise<void> {
    try {
      await this.watcher.close();
      await this.server.close(graceMs);
    } finally {
      this.handler.close();
    }
  }
}

/**
 * The socket a re-adopted process was started with (launch.json, root's): a rank started by an
 * older agent keeps its NSML_AGENT_SOCKET (`.sock/<hash>.sock` before sockets had folders).
 */
function launchedSocket(dir: SessionDir): string | undefined {
  const path = dir.readJson<{ env?: Record<string, string> }>('launch.json')?.env?.NSML_AGENT_SOCKET;
  return typeof path === 'string' && path !== '' ? path : undefined;
}
