import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { writeFileSoft } from './disk/soft-writes.js';

/**
 * The node's credential: issued by the coordinator at the first registration of this node id
 * (`registered.node_secret`) and presented at every later one. Kept in `<dataDir>/node-secret`,
 * mode 600; an agent started on another data directory under the same `--name` does not have
 * it and is refused (NSML_E_NODE_ID_TAKEN).
 */
export function nodeSecretPath(dataDir: string): string {
  return join(dataDir, 'node-secret');
}

/** The kept secret, or '' before the first registration. */
export function loadNodeSecret(dataDir: string): string {
  try {
    return readFileSync(nodeSecretPath(dataDir), 'utf8').trim();
  } catch {
    return '';
  }
}

/**
 * The secret this agent presents: the kept one, replaced by the one the coordinator issues.
 * A secret that cannot be kept (disk full) is still used by this process, and written once
 * there is room (agent/disk/soft-writes.ts); until then a restart on this data directory
 * would be refused, so it is logged as an error.
 */
export class NodeCredential {
  private current: string;

  constructor(private readonly dataDir: string, private readonly logger: Logger) {
    this.current = loadNodeSecret(dataDir);
  }

  get secret(): string {
    return this.current;
  }

  /** Keeps a secret issued by `registered` (ignores ''). */
  accept(issued: string): void {
    if (!issued || issued === this.current) return;
    this.current = issued;
    try {
      if (!writeFileSoft(nodeSecretPath(this.dataDir), issued + '\n', 0o600)) {
        this.logger.error('cannot keep the node secret yet (disk full); it is written once there is room', { path: nodeSecretPath(this.dataDir) });
      }
    } catch (err) {
      this.logger.error('cannot keep the node secret: an agent restarted on this data directory will be refused until `nsml node forget`', {
        path: nodeSecretPath(this.dataDir), error: errorMessage(err),
      });
    }
  }
}
