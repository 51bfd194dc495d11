import { watch, type FSWatcher } from 'chokidar';
import { stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { errorMessage } from '../../common/errors.js';
import { createLogger, type Logger } from '../../common/log.js';
import { validateCheckpointName } from '../../common/names.js';
import { listCheckpointFiles } from './checkpoint-files.js';
import type { CheckpointSaveRequest, CheckpointSaveResult } from './handler.js';
import { PAYLOAD_NAME } from './payload.js';

export interface CheckpointWatcherOptions {
  /** The session's `NSML_CHECKPOINT_DIR`. Created by the caller. */
  dir: string;
  /** Usually the bridge handler's `saveCheckpoint`. */
  register: (request: CheckpointSaveRequest) => Promise<CheckpointSaveResult>;
  logger?: Logger;
  /** An entry counts as finished after this long without changes. Default 2,000 ms. */
  stableMs?: number;
  /** Register what is already there when the watcher starts. Default false. */
  registerExisting?: boolean;
}

export type WatcherEvent =
  | { type: 'registered'; name: string; files: number; bytes: number }
  | { type: 'failed'; name: string; error: string };

export interface CheckpointWatcher {
  /** Resolves once every registration already started has settled (for tests and shutdown). */
  idle(): Promise<void>;
  getStatus(): { registered: number; failed: number; pending: number };
  close(): Promise<void>;
}

interface Signature {
  files: number;
  bytes: number;
  mtimeMs: number;
}

/**
 * Registers each top-level file or subdirectory that a framework writes into the checkpoint
 * directory as a checkpoint named after it, once it has been quiet for `stableMs`. A file becomes
 * the checkpoint's `model` entry, a directory's contents go under `model/`. Names starting with
 * `.` are ignored (temp files, and the SDK's own staging in `.nsml/`). Rewritten entries are
 * registered again (same name: replaced).
 */
export async function startCheckpointWatcher(options: CheckpointWatcherOptions, onEvent?: (event: WatcherEvent) => void): Promise<CheckpointWatcher> {
  const stableMs = options.stableMs ?? 2000;
  const logger = options.logger ?? createLogger({ component: 'checkpoint-watcher' });
  const timers = new Map<string, NodeJS.Timeout>();
  const lastSignature = new Map<string, string>();
  const running = new Set<Promise<void>>();
  const chains = new Map<string, Promise<void>>();
  const status = { registered: 0, failed: 0 };
  let closed = false;

  const topOf = (path: string): string | undefined => {
    const rel = relative(options.dir, path);
    if (rel === '' || rel.startsWith('..')) return undefined;
    return rel.split(sep)[0];
  };

  const finish = async (top: string): Promise<void> => {
    const local = join(options.dir, top);
    const sig = await signature(local).catch(() => undefined);
    if (!sig || closed) return;
    const key = JSON.stringify(sig);
    if (lastSignature.get(top) === key) return;
    try {
      const name = validateCheckpointName(top);
      const listing = await listCheckpointFiles(local, PAYLOAD_NAME);
      const res = await options.register({ name, source: 'watcher', dir: local, files: listing.files, summary: {} });
      lastSignature.set(top, key);
      status.registered++;
      onEvent?.({ type: 'registered', name, files: res.files, bytes: res.bytes });
    } catch (err) {
      status.failed++;
      logger.warn('checkpoint written by the framework was not registered', { name: top, err: errorMessage(err) });
      onEvent?.({ type: 'failed', name: top, error: errorMessage(err) });
    }
  };

  const touch = (path: string): void => {
    const top = topOf(path);
    if (top === undefined || closed) return;
    clearTimeout(timers.get(top));
    timers.set(top, setTimeout(() => {
      timers.delete(top);
      // One registration per name at a time, in order, so a stale one never lands last.
      const work: Promise<void> = (chains.get(top) ?? Promise.resolve()).then(() => finish(top)).finally(() => {
        running.delete(work);
        if (chains.get(top) === work) chains.delete(top);
      });
      chains.set(top, work);
      running.add(work);
    }, stableMs));
  };

  const watcher: FSWatcher = watch(options.dir, {
    ignoreInitial: !options.registerExisting,
    ignored: (path: string) => {
      const rel = relative(options.dir, path);
      return rel !== '' && rel.split(sep).some((part) => part.startsWith('.'));
    },
    persistent: true,
    followSymlinks: false, // a link the script plants (e.g. to /) is never walked, nor read (checkpoint-files.ts)
  });
  watcher.on('all', (_event, path) => touch(path));
  watcher.on('error', (err) => logger.warn('checkpoint watcher error', { err: errorMessage(err) }));
  await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));

  return {
    idle: async () => {
      while (running.size > 0) await Promise.allSettled([...running]);
    },
    getStatus: () => ({ ...status, pending: timers.size + running.size }),
    close: async () => {
      closed = true;
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
      await watcher.close();
      await Promise.allSettled([...running]);
    },
  };
}

async function signature(path: string): Promise<Signature> {
  const info = await stat(path);
  if (!info.isDirectory()) return { files: 1, bytes: info.size, mtimeMs: info.mtimeMs };
  const listing = await listCheckpointFiles(path, PAYLOAD_NAME);
  let bytes = 0;
  let mtimeMs = info.mtimeMs;
  for (const f of listing.files) {
    bytes += f.size;
    const s = await stat(f.local).catch(() => undefined);
    if (s && s.mtimeMs > mtimeMs) mtimeMs = s.mtimeMs;
  }
  return { files: listing.files.length, bytes, mtimeMs };
}
