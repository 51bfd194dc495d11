/**
 * The agent ↔ Python SDK protocol (proto/sdk-bridge.md), version 1: newline-delimited JSON over
 * a Unix socket. These are the messages after validation; see `validate-message.ts`.
 */

export const BRIDGE_PROTOCOL_VERSION = 1;
export const SUPPORTED_VERSIONS: readonly number[] = [1];

/** No line may be longer than this many bytes (newline excluded). */
export const MAX_LINE_BYTES = 4 * 1024 * 1024;
/** The most bytes of a Unix socket path (sun_path is 108 bytes with its terminating NUL). */
export const MAX_SOCKET_PATH_BYTES = 107;
export const MAX_RECORDS_PER_BATCH = 100_000;
export const MAX_KEYS_PER_RECORD = 10_000;
export const MAX_KEY_CHARS = 256;
export const MAX_COMMAND_ID_CHARS = 200;

/** Who is on the other end of one connection, from its `hello`. */
export interface BridgePeer {
  connectionId: number;
  pid: number;
  rank: number;
  sdk: string;
}

export interface MetricRecord {
  tsMs: number;
  step: number;
  /** NaN and ±Infinity arrive as numbers here (they travel as strings on the wire). */
  values: Record<string, number>;
  summary: boolean;
}

export interface MetricBatch {
  records: MetricRecord[];
  /** Records the SDK's buffer dropped (overflow) since its previous batch. */
  dropped: number;
}

export type EventKind = 'set' | 'save' | 'load' | 'call' | 'stop';

/** An applied operator command, for the session's metric timeline. */
export interface BridgeEvent {
  tsMs: number;
  step: number | null;
  kind: EventKind;
  name?: string;
  value?: unknown;
  old?: unknown;
  session?: string;
}

export type CommandName = 'set' | 'get' | 'save' | 'load' | 'call' | 'stop';
export const COMMAND_NAMES: readonly CommandName[] = ['set', 'get', 'save', 'load', 'call', 'stop'];

/** A command for the script, applied at its next `report()` or `poll()`. */
export interface BridgeCommand {
  id: string;
  name: CommandName;
  args: Record<string, unknown>;
}

export interface CommandError {
  type: string;
  message: string;
  code?: string;
  traceback?: string;
}

export interface CommandResult {
  id: string;
  ok: boolean;
  /** The step at which it applied. */
  step: number | null;
  value?: unknown;
  error?: CommandError;
}

export interface HelloMessage {
  type: 'hello';
  v: number;
  sdk: string;
  pid: number;
  rank: number;
  session: string;
}

export interface MetricsMessage {
  type: 'metrics';
  batch: MetricBatch;
}

export interface EventMessage {
  type: 'event';
  event: BridgeEvent;
}

export interface ResultMessage {
  type: 'result';
  result: CommandResult;
}

export interface SaveMessage {
  type: 'save';
  id: number;
  name: string;
  dir: string;
  summary: Record<string, number>;
}

export interface LoadMessage {
  type: 'load';
  id: number;
  name: string;
  session: string | null;
}

export interface ByeMessage {
  type: 'bye';
  id: number;
}

/** Everything the SDK may send. */
export type SdkMessage = HelloMessage | MetricsMessage | EventMessage | ResultMessage | SaveMessage | LoadMessage | ByeMessage;
