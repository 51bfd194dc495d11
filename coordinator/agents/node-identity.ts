import { createHash, timingSafeEqual } from 'node:crypto';
import { mintToken } from '../../common/auth/token.js';
import { ErrorCodes, NsmlError } from '../../common/errors.js';
import type { Store } from '../store/types.js';

/** What a registration may do with the node id it names. */
export type NodeIdentityVerdict =
  /** The id is new (or was registered before secrets existed and is not connected): issue a secret. */
  | { issue: true }
  /** The agent presented the id's secret. */
  | { issue: false };

export function hashNodeSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** A fresh node credential: an `nsmln_` token (common/auth/token.ts); it also authenticates the node's blob and checkpoint calls. */
export function newNodeSecret(): string {
  return mintToken('node');
}

/** Whether `presented` is the secret issued to node `nodeId`. */
export function hasNodeSecret(store: Pick<Store, 'nodeSecretHash'>, nodeId: string, presented: string): boolean {
  const stored = store.nodeSecretHash(nodeId);
  return stored !== undefined && stored !== '' && sameHash(stored, hashNodeSecret(presented));
}

function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

/**
 * A node id is bound to the secret issued at its first registration: a later registration of
 * the same id must present it. Throws NSML_E_NODE_ID_TAKEN otherwise, before anything about
 * the node (its stream, its sessions) is touched.
 */
export function verifyNodeIdentity(
  store: Pick<Store, 'nodeSecretHash'>,
  nodeId: string,
  presented: string,
  connected: boolean,
): NodeIdentityVerdict {
  const stored = store.nodeSecretHash(nodeId);
  if (stored === undefined) return { issue: true };
  if (stored === '') {
    // Registered before node secrets existed: its next registration binds it, unless another
    // agent holds the id right now.
    if (!connected) return { issue: true };
  } else if (presented !== '' && sameHash(stored, hashNodeSecret(presented))) {
    return { issue: false };
  }
  throw new NsmlError(
    ErrorCodes.NODE_ID_TAKEN,
    `node ${nodeId} is already registered with another credential` +
      `${presented ? ' (the node secret presented does not match)' : ' (no node secret was presented: this agent\'s data directory is not the one that joined as ' + nodeId + ')'}; ` +
      `pick another --name, or an admin runs \`nsml node forget ${nodeId}\` once that node is gone`,
  );
}
