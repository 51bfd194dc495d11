import type Database from 'better-sqlite3';
import type { CommandPatch, CommandRow, CommandTable, TargetPatch, TargetResult, TargetRow } from './types.js';

const COMMAND_COLUMNS = `id, session, user, name, args_json AS argsJson, at_step AS atStep, state, reason,
  created_ms AS createdMs, delivered_ms AS deliveredMs, finished_ms AS finishedMs`;
const TARGET_COLUMNS = `command, rank, state, epoch, node_id AS nodeId, delivered_ms AS deliveredMs,
  finished_ms AS finishedMs, step, result_json AS resultJson`;

const COMMAND_FIELDS: Record<keyof CommandPatch, string> = {
  state: 'state', reason: 'reason', atStep: 'at_step', deliveredMs: 'delivered_ms', finishedMs: 'finished_ms',
};
const TARGET_FIELDS: Record<keyof TargetPatch, string> = {
  state: 'state', epoch: 'epoch', nodeId: 'node_id', deliveredMs: 'delivered_ms', finishedMs: 'finished_ms', step: 'step', result: 'result_json',
};

type TargetRecord = Omit<TargetRow, 'result'> & { resultJson: string };

function toTarget(r: TargetRecord): TargetRow {
  const { resultJson, ...rest } = r;
  return { ...rest, result: resultJson ? (JSON.parse(resultJson) as TargetResult) : undefined };
}

/** `SET a = @a, b = @b` for the fields present in a patch. */
function assignments(patch: object, fields: Record<string, string>): string {
  return Object.keys(patch).filter((k) => k in fields).map((k) => `${fields[k]} = @${k}`).join(', ');
}

/** The command rows (see types.ts); prepared statements over the coordinator's database. */
export function commandTable(db: Database.Database): CommandTable {
  const insertCommand = db.prepare(
    `INSERT INTO commands (id, session, user, name, args_json, state, created_ms)
     VALUES (@id, @session, @user, @name, @argsJson, 'queued', @createdMs)`,
  );
  const insertTarget = db.prepare("INSERT OR IGNORE INTO command_targets (command, rank, state) VALUES (?, ?, 'queued')");
  const byId = db.prepare(`SELECT ${COMMAND_COLUMNS} FROM commands WHERE id = ?`);
  const targetsOf = db.prepare(`SELECT ${TARGET_COLUMNS} FROM command_targets WHERE command = ? ORDER BY rank`);
  const open = db.prepare(`SELECT ${COMMAND_COLUMNS} FROM commands WHERE state IN ('queued', 'delivered') ORDER BY seq`);
  const updates = new Map<string, Database.Statement>();
  const statement = (sql: string) => {
    let s = updates.get(sql);
    if (!s) updates.set(sql, (s = db.prepare(sql)));
    return s;
  };

  const addTargets = (id: string, ranks: readonly number[]) => {
    for (const rank of ranks) insertTarget.run(id, rank);
  };

  return {
    insert: (command, ranks) =>
      db.transaction(() => {
        insertCommand.run(command);
        addTargets(command.id, ranks);
      })(),
    get: (id) => byId.get(id) as CommandRow | undefined,
    targets: (id) => (targetsOf.all(id) as TargetRecord[]).map(toTarget),
    addTargets: (id, ranks) => db.transaction(() => addTargets(id, ranks))(),
    open: () => open.all() as CommandRow[],
    update: (id, patch) => {
      const set = assignments(patch, COMMAND_FIELDS);
      if (set) statement(`UPDATE commands SET ${set} WHERE id = @id`).run({ ...patch, id });
    },
    updateTarget: (id, rank, patch) => {
      const set = assignments(patch, TARGET_FIELDS);
      if (!set) return;
      const values: Record<string, unknown> = { ...patch, id, rank };
      if ('result' in patch) values.result = patch.result ? JSON.stringify(patch.result) : '';
      statement(`UPDATE command_targets SET ${set} WHERE command = @id AND rank = @rank`).run(values);
    },
  };
}
