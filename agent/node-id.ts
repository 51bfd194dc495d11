import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes, NsmlError } from '../common/errors.js';

const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function validateNodeId(id: string): string {
  if (!NODE_ID.test(id)) {
    throw new NsmlError(ErrorCodes.CONFIG, `invalid node id ${JSON.stringify(id)}: use letters, digits, ".", "_" and "-" (at most 64, starting with a letter or digit)`);
  }
  return id;
}

/** A fresh id: the host name (cleaned) and a random suffix, so that clones of one image differ. */
export function generateNodeId(host = hostname()): string {
  const base = host.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, '').slice(0, 48) || 'node';
  return `${base}-${randomBytes(3).toString('hex')}`;
}

/**
 * The node's stable id, kept in `<dataDir>/node-id`: `wanted` when given (and then kept),
 * else the kept one, else a generated one (kept for every later start).
 */
export function loadNodeId(dataDir: string, wanted?: string): string {
  const path = join(dataDir, 'node-id');
  let kept: string | undefined;
  try {
    kept = readFileSync(path, 'utf8').trim();
  } catch {
    kept = undefined;
  }
  const id = validateNodeId(wanted ?? (kept || generateNodeId()));
  if (id !== kept) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(path, id + '\n');
  }
  return id;
}
