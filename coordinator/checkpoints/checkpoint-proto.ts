import type { Checkpoint } from '../../common/proto/types.js';
import type { CheckpointRow } from './checkpoint-table.js';

export function checkpointProto(row: CheckpointRow): Checkpoint {
  return {
    session: row.session, name: row.name, manifest: row.manifest, files: row.files, bytes: row.bytes,
    summary: row.summary, source: row.source, createdMs: row.createdMs, epoch: row.epoch,
  };
}
