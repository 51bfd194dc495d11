import type { AgentRegistry } from './agents/agent-registry.js';
import type { Authenticator } from './auth/authenticator.js';
import type { BlobAccess } from './auth/blob-access.js';
import type { BlobCollector } from './blobs/blob-gc.js';
import type { BlobStore } from './blobs/blob-store.js';
import type { CommandQueue } from './commands/command-queue.js';
import type { DatasetRegistry } from './datasets/dataset-registry.js';
import type { ExecBroker } from './exec/exec-broker.js';
import type { Hub } from './hub.js';
import type { CompiledCoordinatorOptions } from './options.js';
import type { Lifecycle } from './sessions/lifecycle.js';
import type { SchedulerLoop } from './sessions/scheduler-loop.js';
import type { Store } from './store/types.js';

/** What the gRPC services share. */
export interface CoordinatorContext {
  options: CompiledCoordinatorOptions;
  store: Store;
  blobs: BlobStore;
  /** Dataset versions, access and the pins of sessions (coordinator/datasets). */
  datasets: DatasetRegistry;
  hub: Hub;
  agents: AgentRegistry;
  lifecycle: Lifecycle;
  scheduler: SchedulerLoop;
  /** Operator commands (`nsml control`): persisted, delivered down agent streams, answered. */
  commands: CommandQueue;
  /** The collector of unreferenced blobs (`nsml admin gc`, and its schedule). */
  gc: BlobCollector;
  /** Turns a call's token into its caller (coordinator/auth). */
  auth: Authenticator;
  /** Which blobs a caller may read (Get, and Has per caller). */
  blobAccess: BlobAccess;
  /** Terminals into sessions (`nsml exec`, `nsml attach`): pairs callers with their agents' dial-backs. */
  exec: ExecBroker;
  /** Aborted when the coordinator closes: long calls (Wait, Logs, Watch, agent streams) end. */
  closing: AbortSignal;
}
