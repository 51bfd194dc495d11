import { ErrorCodes, NsmlError } from '../../common/errors.js';
import type { AdminServiceHandlers, Node } from '../../common/proto/types.js';
import type { CoordinatorContext } from '../context.js';
import type { AssignmentRow, NodeRow } from '../store/types.js';
import { forgetNode } from '../agents/forget-node.js';
import { collectGarbageHandler } from './gc-handler.js';
import type { Caller } from '../auth/caller.js';
import { sessionAllows } from '../auth/session-access.js';
import { adminOf, unary, userOf } from './grpc-util.js';

/** down, else disk-full (nothing can be placed), else draining (nothing will be), else ready. */
export function nodeState(n: NodeRow): string {
  if (n.state === 'down') return 'down';
  if (n.diskFull) return 'disk-full';
  return n.draining ? 'draining' : 'ready';
}

/**
 * One node as `caller` may see it: the sessions on it that they may not see are left out of its
 * session lists (its allocated GPUs still count them).
 */
function nodeProto(ctx: CoordinatorContext, n: NodeRow, active: AssignmentRow[], caller: Caller): Node {
  const mine = active.filter((a) => a.nodeId === n.id);
  const visible = (session: string) => {
    const row = ctx.store.getSession(session);
    return row !== undefined && sessionAllows(ctx.store, caller, row, 'read') === true;
  };
  const state = nodeState(n);
  const gpus = ctx.agents.gpus(n.id);
  return {
    id: n.id,
    state,
    inventory: gpus ? { ...n.inventory, gpus } : n.inventory,
    lastHeartbeatMs: ctx.agents.lastSeen(n.id) ?? n.lastHeartbeatMs,
    sessions: [...new Set(mine.map((a) => a.session))].filter(visible),
    idleSessions: ctx.agents.idleSessions(n.id).filter((s) => mine.some((a) => a.session === s) && visible(s)),
    allocatedGpus: mine.flatMap((a) => a.gpuIndices).sort((a, b) => a - b),
    reason: (state === 'disk-full' ? n.diskFull : n.reason) || (n.state !== 'down' && !ctx.agents.isConnected(n.id) ? 'disconnected' : ''),
  };
}

export function adminService(ctx: CoordinatorContext): AdminServiceHandlers {
  return {
    ListNodes: unary((_req, call) => {
      const caller = userOf(ctx.auth, call.metadata);
      const active = ctx.store.activeAssignments();
      return { nodes: ctx.store.listNodes().map((n) => nodeProto(ctx, n, active, caller)) };
    }),
    DrainNode: unary((req, call) => {
      const admin = adminOf(ctx.auth, call.metadata, 'draining nodes (`nsml node drain`)');
      const user = admin.user;
      const node = ctx.store.getNode(req.id);
      if (!node) {
        const known = ctx.store.listNodes().map((n) => n.id);
        throw new NsmlError(ErrorCodes.NODE_NOT_FOUND, `no node named ${JSON.stringify(req.id)}; known nodes: ${known.slice(0, 10).join(', ') || 'none'}`);
      }
      const reason = req.undrain ? '' : req.reason || `drained by ${user}`;
      ctx.store.updateNode(req.id, { draining: !req.undrain, reason: node.state === 'down' ? node.reason : reason });
      ctx.scheduler.request();
      return nodeProto(ctx, ctx.store.getNode(req.id)!, ctx.store.activeAssignments(), admin);
    }),
    ForgetNode: unary((req, call) => {
      adminOf(ctx.auth, call.metadata, 'forgetting nodes (`nsml node forget`)');
      forgetNode(ctx, req.id);
      return { id: req.id };
    }),
    CollectGarbage: collectGarbageHandler(ctx),
  };
}
