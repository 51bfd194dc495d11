import { ErrorCodes, NsmlError } from '../../common/errors.js';
import { validateDatasetName, validateUser } from '../../common/names.js';
import type { Session, SessionServiceHandlers } from '../../common/proto/types.js';
import type { CoordinatorContext } from '../context.js';
import { datasetRefsOf, submitPinned } from '../datasets/submit-pins.js';
import { resolveFork } from '../sessions/fork-request.js';
import { checkSubmit } from '../sessions/submit-check.js';
import { priorSubmit, submitKey, submitOnce } from '../sessions/submit-once.js';
import type { SessionRow } from '../store/types.js';
import { isTerminal } from '../store/types.js';
import { controlHandlers } from './control-handlers.js';
import { sessionFor } from '../auth/session-access.js';
import { requireReadableManifest } from '../auth/manifest-access.js';
import { unary, userOf } from './grpc-util.js';
import { listVisible } from './session-list.js';
import { shareHandler } from './session-share.js';
import { streamLogs } from './logs-stream.js';
import { metricsHandlers } from './metrics-handlers.js';
import { queueHandlers } from './queue-handlers.js';
import { removeSessionHandler } from './session-remove.js';
import { toSessionProto } from './session-proto.js';

export const MAX_WAIT_MS = 60_000;
const DEFAULT_LIST_LIMIT = 200;
const MAX_LIST_LIMIT = 10_000;

function proto(ctx: CoordinatorContext, s: SessionRow, withEvents = false): Session {
  const out = toSessionProto(s, s.epoch > 0 ? ctx.store.assignments(s.name, s.epoch) : [], withEvents ? ctx.store.events(s.name) : undefined);
  out.datasets = ctx.store.datasets.pinsOf(s.name).map((p) => `${p.name}@${p.version}`);
  out.summary = ctx.store.metrics.summaryOf(s.name);
  const lineage = ctx.store.lineage.get(s.name);
  out.kind = lineage?.kind ?? 'normal';
  out.parent = lineage?.parent ?? '';
  out.checkpoint = lineage?.checkpoint ?? '';
  return out;
}

/** Resolves with the session once terminal, or as it is after `timeoutMs` (or at close). */
function waitTerminal(ctx: CoordinatorContext, name: string, timeoutMs: number, cancelled: AbortSignal): Promise<SessionRow> {
  return new Promise((resolve) => {
    let off = () => {};
    const done = () => {
      off();
      clearTimeout(timer);
      ctx.closing.removeEventListener('abort', done);
      cancelled.removeEventListener('abort', done);
      resolve(ctx.store.getSession(name)!);
    };
    off = ctx.hub.onSession(name, (row) => {
      if (isTerminal(row.state)) done();
    });
    const timer = setTimeout(done, timeoutMs);
    ctx.closing.addEventListener('abort', done);
    cancelled.addEventListener('abort', done);
    if (isTerminal(ctx.store.getSession(name)!.state)) done();
  });
}

export function sessionService(ctx: CoordinatorContext): SessionServiceHandlers {
  return {
    Submit: unary(async (req, call) => {
      const caller = userOf(ctx.auth, call.metadata);
      const user = caller.user;
      const key = submitKey(req, user);
      const prior = key && priorSubmit(ctx.store, key);
      if (prior) return proto(ctx, prior);
      await requireReadableManifest(ctx, caller, req.workspace, 'workspace');
      const { req: full, lineage } = resolveFork(ctx.store, caller, req);
      const { dataset, refs } = datasetRefsOf(full);
      const { session, reason } = await checkSubmit({ ...full, dataset }, user, { blobs: ctx.blobs, nodes: () => ctx.store.listNodes() });
      const { row, created } = submitOnce({ store: ctx.store, clock: ctx.options.clock }, key, () => ctx.store.transaction(() => {
        const inserted = submitPinned(ctx, session, reason, refs);
        if (lineage) ctx.store.lineage.put(inserted.name, lineage);
        return inserted;
      }));
      if (created) ctx.options.logger.info('session submitted', { session: row.name, gpus: row.gpus });
      return proto(ctx, row);
    }),
    List: unary((req, call) => {
      const caller = userOf(ctx.auth, call.metadata);
      const user = req.user === '*' ? undefined : req.user === '' ? caller.user : validateUser(req.user);
      const limit = req.limit > 0 ? Math.min(req.limit, MAX_LIST_LIMIT) : DEFAULT_LIST_LIMIT;
      const states = req.all ? undefined : ['queued', 'scheduled', 'starting', 'running'];
      const dataset = req.dataset === '' ? undefined : validateDatasetName(req.dataset);
      const rows = listVisible(ctx.store, caller, { ...(user !== undefined ? { user } : {}), ...(states ? { states } : {}), ...(dataset ? { dataset } : {}), limit });
      return { sessions: rows.map((s) => proto(ctx, s)) };
    }),
    Get: unary((req, call) => proto(ctx, sessionFor(ctx.store, userOf(ctx.auth, call.metadata), req.name, 'read'), true)),
    Stop: unary((req, call) => {
      const caller = userOf(ctx.auth, call.metadata);
      const user = caller.user;
      sessionFor(ctx.store, caller, req.name, 'control');
      if (!Number.isSafeInteger(req.graceMs) || req.graceMs < 0) {
        throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `grace_ms must be 0 (the default) or a positive number of milliseconds; got ${req.graceMs}`);
      }
      const row = ctx.lifecycle.requestStop(req.name, user, req.graceMs > 0 ? req.graceMs : ctx.options.stopGraceMs);
      return proto(ctx, row);
    }),
    Wait: unary(async (req, call) => {
      sessionFor(ctx.store, userOf(ctx.auth, call.metadata), req.name, 'read');
      if (!Number.isSafeInteger(req.timeoutMs) || req.timeoutMs < 0) {
        throw new NsmlError(ErrorCodes.INVALID_ARGUMENT, `timeout_ms must be from 0 to ${MAX_WAIT_MS}; got ${req.timeoutMs}`);
      }
      const timeout = req.timeoutMs === 0 ? MAX_WAIT_MS : Math.min(req.timeoutMs, MAX_WAIT_MS);
      const cancelled = new AbortController();
      call.on('cancelled', () => cancelled.abort());
      const row = await waitTerminal(ctx, req.name, timeout, cancelled.signal);
      return proto(ctx, row);
    }),
    Logs: (call) => {
      void streamLogs(ctx, call).catch((err: unknown) => {
        ctx.options.logger.debug('logs stream ended with an error', { error: String(err) });
      });
    },
    ...queueHandlers(ctx),
    ...controlHandlers(ctx),
    ...metricsHandlers(ctx),
    Remove: removeSessionHandler(ctx),
    Share: shareHandler(ctx),
    Exec: (call) => ctx.exec.fromCaller(call),
  };
}
