import type { CoordinatorMessage, GpuInfo__Output } from '../../common/proto/types.js';

/** One connected agent's stream, as the rest of the coordinator sees it. */
export interface AgentLink {
  readonly nodeId: string;
  /** Queues a message down the stream; false when the stream is gone. */
  send(message: CoordinatorMessage): boolean;
  /** Ends the stream (the agent reconnects). */
  close(reason: string): void;
}

interface Entry {
  link: AgentLink;
  lastSeenMs: number;
  gpus: GpuInfo__Output[] | undefined;
  /** NAME@V of the dataset versions the node's cache holds, from its latest heartbeat. */
  datasets: string[];
  /** Sessions the node reported idle in its latest heartbeat. */
  idle: string[];
}

/** Which agents are connected now, when each was last heard from, and its latest GPU state. */
export class AgentRegistry {
  private readonly links = new Map<string, Entry>();
  private readonly dirty = new Map<string, number>();
  /** When each node was last heard from, kept after its stream ends (its silence counts from there). */
  private readonly heardMs = new Map<string, number>();

  /** Adds a link, closing any older stream of the same node. */
  attach(link: AgentLink, nowMs: number): void {
    const old = this.links.get(link.nodeId);
    if (old && old.link !== link) old.link.close('the node connected again on another stream');
    this.links.set(link.nodeId, { link, lastSeenMs: nowMs, gpus: undefined, datasets: [], idle: [] });
    this.heardMs.set(link.nodeId, nowMs);
    this.dirty.set(link.nodeId, nowMs);
  }

  /** Removes a link if it is still the current one for its node. */
  detach(link: AgentLink): boolean {
    const e = this.links.get(link.nodeId);
    if (e?.link !== link) return false;
    this.links.delete(link.nodeId);
    return true;
  }

  get(nodeId: string): AgentLink | undefined {
    return this.links.get(nodeId)?.link;
  }

  isConnected(nodeId: string): boolean {
    return this.links.has(nodeId);
  }

  connectedIds(): string[] {
    return [...this.links.keys()];
  }

  send(nodeId: string, message: CoordinatorMessage): boolean {
    return this.links.get(nodeId)?.link.send(message) ?? false;
  }

  heard(nodeId: string, nowMs: number, gpus?: GpuInfo__Output[]): void {
    const e = this.links.get(nodeId);
    if (!e) return;
    e.lastSeenMs = nowMs;
    this.heardMs.set(nodeId, nowMs);
    if (gpus && gpus.length > 0) e.gpus = gpus;
    this.dirty.set(nodeId, nowMs);
  }

  /** When the node was last heard from by this coordinator, connected now or not. */
  lastSeen(nodeId: string): number | undefined {
    return this.heardMs.get(nodeId);
  }

  /** The GPU state from the latest heartbeat that carried one. */
  gpus(nodeId: string): GpuInfo__Output[] | undefined {
    return this.links.get(nodeId)?.gpus;
  }

  setDatasets(nodeId: string, datasets: string[]): void {
    const e = this.links.get(nodeId);
    if (e) e.datasets = datasets;
  }

  /** The dataset versions (NAME@V) the node reported holding; empty when unknown. */
  datasets(nodeId: string): string[] {
    return this.links.get(nodeId)?.datasets ?? [];
  }

  setIdle(nodeId: string, sessions: string[]): void {
    const e = this.links.get(nodeId);
    if (e) e.idle = sessions;
  }

  /** The sessions the node reported idle in its latest heartbeat; empty when not connected. */
  idleSessions(nodeId: string): string[] {
    return this.links.get(nodeId)?.idle ?? [];
  }

  /** Heartbeat times not yet written to the store; clears them. */
  takeHeartbeats(): Array<[string, number]> {
    const out = [...this.dirty.entries()];
    this.dirty.clear();
    return out;
  }

  closeAll(reason: string): void {
    for (const e of [...this.links.values()]) e.link.close(reason);
    this.links.clear();
  }

  get size(): number {
    return this.links.size;
  }
}
