import { echo } from './echo.js';
import { ErrorCodes, NsmlError } from './errors.js';

/** The dataset part of a session name when the session has no dataset. */
export const SCRATCH = 'scratch';

const PART = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const DATASET = /^[a-z0-9][a-z0-9_-]{0,63}$/;

function invalid(kind: string, value: string, rule: string): NsmlError {
  return new NsmlError(
    ErrorCodes.INVALID_NAME,
    `invalid ${kind} ${echo(value)}: ${rule}`,
    { details: { kind, value: value.slice(0, 256) } },
  );
}

/** A user name: letters, digits, '.', '_' and '-', starting with a letter or digit, at most 64. */
export function validateUser(user: string): string {
  if (!PART.test(user) || user === '.' || user === '..') {
    throw invalid('user name', user, 'use letters, digits, ".", "_" and "-" (at most 64, starting with a letter or digit)');
  }
  return user;
}

/** A dataset name: lowercase letters, digits, '-' and '_', at most 64 characters. */
export function validateDatasetName(name: string): string {
  if (!DATASET.test(name)) {
    throw invalid('dataset name', name, 'use lowercase letters, digits, "-" and "_", at most 64 characters, starting with a letter or digit');
  }
  return name;
}

export interface SessionName {
  user: string;
  dataset: string;
  n: number;
}

export function formatSessionName(name: SessionName): string {
  return `${name.user}/${name.dataset}/${name.n}`;
}

/** Parses `USER/DATASET/N`; rejects `..`, empty parts and control characters with a clear error. */
export function parseSessionName(text: string): SessionName {
  const parts = text.split('/');
  const rule = 'a session is named USER/DATASET/N, e.g. alice/mnist/3 or alice/scratch/1';
  if (parts.length !== 3 || parts.some((p) => p.length === 0)) throw invalid('session name', text, rule);
  const [user, dataset, n] = parts as [string, string, string];
  if (!PART.test(user) || (dataset !== SCRATCH && !DATASET.test(dataset)) || !/^[1-9][0-9]{0,9}$/.test(n)) {
    throw invalid('session name', text, rule);
  }
  return { user, dataset, n: Number(n) };
}

/** A checkpoint name as given to `nsml.save`: no '/', no control characters, not '.' or '..'. */
export function validateCheckpointName(name: string): string {
  // eslint-disable-next-line no-control-regex
  if (name.length === 0 || name.length > 200 || /[/\\\u0000-\u001f\u007f]/.test(name) || name === '.' || name === '..') {
    throw invalid('checkpoint name', name, 'use 1 to 200 characters without "/", "\\" or control characters, and not "." or ".."');
  }
  return name;
}

/**
 * A relative path inside a workspace, dataset or checkpoint manifest: '/'-separated, no empty
 * parts, no '.' or '..', no leading '/', no control characters.
 */
export function validateRelativePath(path: string): string {
  // eslint-disable-next-line no-control-regex
  const bad = path.length === 0 || path.length > 4096 || path.startsWith('/') || /[\u0000-\u001f\u007f\\]/.test(path)
    || path.split('/').some((p) => p === '' || p === '.' || p === '..');
  if (bad) throw invalid('path', path, 'a relative path without "..", "." or empty parts, "\\" or control characters');
  return path;
}
