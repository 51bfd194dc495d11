import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ErrorCodes, NsmlError, errorMessage } from '../../common/errors.js';
import { checkpointTable } from '../checkpoints/checkpoint-table.js';
import { commandTable } from '../commands/command-table.js';
import { datasetTable } from '../datasets/dataset-table.js';
import { metricTable } from '../metrics/metric-table.js';
import { blobRootMethods } from './blob-roots.js';
import { logMethods } from './log-table.js';
import { migrate } from './migrations.js';
import { nodeMethods } from './node-table.js';
import { schedulingMethods } from './scheduling-table.js';
import { submitRequestTable } from '../sessions/submit-request-table.js';
import { lineageTable } from '../sessions/lineage-table.js';
import { userTable } from '../auth/user-table.js';
import { sessionMethods } from './session-table.js';
import { sessionRemovalMethods } from './session-removal.js';
import type { Store } from './types.js';

/**
 * Opens (creating and migrating) the coordinator's SQLite state. `:memory:` gives a private
 * in-memory store for unit tests. WAL with synchronous=NORMAL survives a killed process.
 */
export function openStore(path: string): Store {
  let db: Database.Database;
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    db.pragma('foreign_keys = ON');
    migrate(db);
  } catch (err) {
    throw new NsmlError(ErrorCodes.STATE_DIR, `cannot open the coordinator state ${path}: ${errorMessage(err)}`, { cause: err });
  }
  return {
    transaction: <T>(fn: () => T): T => db.transaction(fn)(),
    ...sessionMethods(db),
    ...nodeMethods(db),
    ...logMethods(db),
    ...schedulingMethods(db),
    ...blobRootMethods(db),
    ...sessionRemovalMethods(db),
    datasets: datasetTable(db),
    checkpoints: checkpointTable(db),
    metrics: metricTable(db),
    commands: commandTable(db),
    submitRequests: submitRequestTable(db),
    lineage: lineageTable(db),
    users: userTable(db),
    close: () => {
      if (db.open) db.close();
    },
  };
}
