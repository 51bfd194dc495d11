import { randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ErrorCodes, NsmlError } from '../../common/errors.js';
import { sha256 } from '../../common/hashing.js';
import { encodeManifest, type ManifestEntry } from '../../common/manifest.js';
import type { CheckpointLoadRequest, CheckpointLoadResult, CheckpointSaveRequest, CheckpointSaveResult, BridgeHandler } from './handler.js';
import type { BridgeEvent, BridgePeer, CommandResult, MetricBatch, MetricRecord } from './protocol.js';

export interface StoredCheckpoint {
  session: string;
  name: string;
  source: 'sdk' | 'watcher';
  manifestHash: string;
  entries: ManifestEntry[];
  summary: Record<string, number>;
}

/**
 * An in-memory `BridgeHandler` for tests and benchmarks: keeps every batch, event and result;
 * stores checkpoints as manifests over a content-addressed map (so an unchanged file uploads 0
 * bytes, as with the blob service) and materializes them into `materializeRoot` on load.
 */
export class MemoryBridgeHandler implements BridgeHandler {
  readonly batches: Array<{ batch: MetricBatch; peer: BridgePeer }> = [];
  readonly events: Array<{ event: BridgeEvent; peer: BridgePeer }> = [];
  readonly results: Array<{ result: CommandResult; peer: BridgePeer }> = [];
  readonly connections: Array<{ peer: BridgePeer; state: 'open' | 'closed'; reason?: string }> = [];
  readonly checkpoints = new Map<string, StoredCheckpoint>();
  readonly blobs = new Map<string, Buffer>();
  recordCount = 0;
  /** When false, batches are counted but not kept (benchmarks). */
  keepBatches = true;
  private readonly waiters: Array<() => void> = [];

  constructor(readonly session: string, private readonly materializeRoot: string) {}

  onMetrics(batch: MetricBatch, peer: BridgePeer): void {
    this.recordCount += batch.records.length;
    if (this.keepBatches) this.batches.push({ batch, peer });
    this.wake();
  }

  onEvent(event: BridgeEvent, peer: BridgePeer): void {
    this.events.push({ event, peer });
    this.wake();
  }

  onCommandResult(result: CommandResult, peer: BridgePeer): void {
    this.results.push({ result, peer });
    this.wake();
  }

  onConnection(peer: BridgePeer, state: 'open' | 'closed', reason?: string): void {
    this.connections.push(reason === undefined ? { peer, state } : { peer, state, reason });
    this.wake();
  }

  records(): MetricRecord[] {
    return this.batches.flatMap((b) => b.batch.records);
  }

  saveCheckpoint(request: CheckpointSaveRequest): Promise<CheckpointSaveResult> {
    return this.saveCheckpointAs(this.session, request);
  }

  /** Stores a checkpoint under another session (to test loads across sessions). */
  async saveCheckpointAs(session: string, request: CheckpointSaveRequest): Promise<CheckpointSaveResult> {
    let bytes = 0;
    let uploadedBytes = 0;
    const entries: ManifestEntry[] = [];
    for (const file of request.files) {
      const data = await readFile(file.local);
      const hash = sha256(data);
      if (!this.blobs.has(hash)) {
        this.blobs.set(hash, data);
        uploadedBytes += data.length;
      }
      bytes += data.length;
      entries.push({ path: file.path, mode: file.mode, size: data.length, hash });
    }
    const manifest = encodeManifest(entries);
    this.blobs.set(manifest.hash, manifest.bytes);
    this.checkpoints.set(`${session}/${request.name}`, {
      session, name: request.name, source: request.source, manifestHash: manifest.hash, entries, summary: request.summary,
    });
    this.wake();
    return { files: entries.length, bytes, uploadedBytes };
  }

  async loadCheckpoint(request: CheckpointLoadRequest): Promise<CheckpointLoadResult> {
    const session = request.session ?? this.session;
    const stored = this.checkpoints.get(`${session}/${request.name}`);
    if (!stored) {
      const existing = [...this.checkpoints.values()].filter((c) => c.session === session).map((c) => c.name);
      throw new NsmlError(ErrorCodes.NOT_FOUND,
        `checkpoint ${JSON.stringify(request.name)} of session ${session} does not exist; existing: ${existing.join(', ') || 'none'}`,
        { details: { session, existing } });
    }
    const dir = join(this.materializeRoot, randomUUID());
    await mkdir(dir, { recursive: true });
    for (const entry of stored.entries) {
      const target = join(dir, ...entry.path.split('/'));
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, this.blobs.get(entry.hash)!, { mode: entry.mode });
    }
    return { dir };
  }

  /** Resolves when `predicate` holds, checking after every message (rejects after `timeoutMs`). */
  async until(predicate: () => boolean, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error('condition not met in time');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}
