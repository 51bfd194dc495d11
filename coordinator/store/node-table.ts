import type Database from 'better-sqlite3';
import type { NodeInventory__Output } from '../../common/proto/types.js';
import type { NodePatch, NodeRow, Store } from './types.js';

type NodeMethods = Pick<Store,
  'upsertNode' | 'getNode' | 'listNodes' | 'nodeStates' | 'updateNode' | 'recordHeartbeats' | 'nodeSecretHash' | 'setNodeSecretHash' | 'nodeBySecretHash' | 'forgetNode'>;

interface NodeRecord {
  id: string; inventory_json: string; state: string; draining: number; reason: string;
  last_heartbeat_ms: number; joined_ms: number; disk_full: string;
}

function toNode(r: NodeRecord): NodeRow {
  return {
    id: r.id, inventory: JSON.parse(r.inventory_json) as NodeInventory__Output, state: r.state as NodeRow['state'],
    draining: r.draining !== 0, reason: r.reason, lastHeartbeatMs: r.last_heartbeat_ms, joinedMs: r.joined_ms,
    diskFull: r.disk_full,
  };
}

export function nodeMethods(db: Database.Database): NodeMethods {
  const upsert = db.prepare(
    `INSERT INTO nodes (id, inventory_json, state, reason, last_heartbeat_ms, joined_ms)
     VALUES (@id, @inventory, 'ready', '', @now, @now)
     ON CONFLICT (id) DO UPDATE SET inventory_json = @inventory, state = 'ready',
       reason = CASE WHEN draining = 1 THEN reason ELSE '' END, last_heartbeat_ms = @now`,
  );
  const byId = db.prepare('SELECT * FROM nodes WHERE id = ?');
  const all = db.prepare('SELECT * FROM nodes ORDER BY id');
  const states = db.prepare('SELECT id, state FROM nodes ORDER BY id');
  const secretOf = db.prepare('SELECT secret_hash FROM nodes WHERE id = ?');
  const bySecret = db.prepare("SELECT id FROM nodes WHERE secret_hash = ? AND secret_hash != ''");
  const setSecret = db.prepare('UPDATE nodes SET secret_hash = ? WHERE id = ?');
  const forget = db.prepare('DELETE FROM nodes WHERE id = ?');
  const beat = db.prepare('UPDATE nodes SET last_heartbeat_ms = ? WHERE id = ? AND last_heartbeat_ms < ?');
  const get = (id: string) => {
    const r = byId.get(id) as NodeRecord | undefined;
    return r ? toNode(r) : undefined;
  };
  return {
    upsertNode: (id, inventory, nowMs) => {
      upsert.run({ id, inventory: JSON.stringify(inventory), now: nowMs });
      return get(id)!;
    },
    getNode: get,
    listNodes: () => (all.all() as NodeRecord[]).map(toNode),
    nodeStates: () => states.all() as Array<{ id: string; state: NodeRow['state'] }>,
    updateNode: (id: string, patch: NodePatch) => {
      const sets: string[] = [];
      const values: Record<string, unknown> = { id };
      if (patch.state !== undefined) (sets.push('state = @state'), (values.state = patch.state));
      if (patch.draining !== undefined) (sets.push('draining = @draining'), (values.draining = patch.draining ? 1 : 0));
      if (patch.reason !== undefined) (sets.push('reason = @reason'), (values.reason = patch.reason));
      if (patch.diskFull !== undefined) (sets.push('disk_full = @diskFull'), (values.diskFull = patch.diskFull));
      if (patch.lastHeartbeatMs !== undefined) (sets.push('last_heartbeat_ms = @hb'), (values.hb = patch.lastHeartbeatMs));
      if (sets.length > 0) db.prepare(`UPDATE nodes SET ${sets.join(', ')} WHERE id = @id`).run(values);
    },
    nodeSecretHash: (id) => (secretOf.get(id) as { secret_hash: string } | undefined)?.secret_hash,
    setNodeSecretHash: (id, hash) => {
      setSecret.run(hash, id);
    },
    nodeBySecretHash: (hash) => (hash === '' ? undefined : (bySecret.get(hash) as { id: string } | undefined)?.id),
    forgetNode: (id) => forget.run(id).changes > 0,
    recordHeartbeats: (beats) =>
      db.transaction(() => {
        for (const [id, ms] of beats) beat.run(ms, id, ms);
      })(),
  };
}
