import { ErrorCodes, NsmlError } from '../../common/errors.js';
import type { CoordinatorContext } from '../context.js';

/**
 * `nsml node forget NODE`: removes a node and its credential (node secret), so that another
 * agent may register under its id. Refused while the node is connected or holds a session:
 * forgetting a live node would hand its sessions to whoever registers next.
 */
export function forgetNode(ctx: Pick<CoordinatorContext, 'store' | 'agents' | 'options'>, id: string): void {
  const node = ctx.store.getNode(id);
  if (!node) {
    const known = ctx.store.listNodes().map((n) => n.id);
    throw new NsmlError(ErrorCodes.NODE_NOT_FOUND, `no node named ${JSON.stringify(id)}; known nodes: ${known.slice(0, 10).join(', ') || 'none'}`);
  }
  if (ctx.agents.isConnected(id)) {
    throw new NsmlError(ErrorCodes.NODE_BUSY, `node ${id} is connected; stop its agent first (or \`nsml node drain ${id}\` and wait), then forget it`);
  }
  const held = [...new Set(ctx.store.activeAssignments().filter((a) => a.nodeId === id).map((a) => a.session))];
  if (held.length > 0) {
    throw new NsmlError(ErrorCodes.NODE_BUSY, `node ${id} still holds ${held.slice(0, 5).join(', ')}${held.length > 5 ? ', …' : ''}; stop them (\`nsml stop\`) or wait until they are lost, then forget it`);
  }
  ctx.store.forgetNode(id);
  ctx.options.logger.info('node forgotten', { nodeId: id });
}
