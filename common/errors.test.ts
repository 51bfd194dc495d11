import { describe, expect, it } from 'vitest';
import { ErrorCodes, NsmlError, isNsmlError } from './errors.js';

describe('NsmlError', () => {
  it('keeps its code and cause', () => {
    const cause = new Error('disk full');
    const err = new NsmlError(ErrorCodes.STATE_DIR, 'cannot write state', { cause });
    expect(err.code).toBe('NSML_E_STATE_DIR');
    expect(err.cause).toBe(cause);
    expect(isNsmlError(err, ErrorCodes.STATE_DIR)).toBe(true);
    expect(isNsmlError(err, ErrorCodes.NOT_FOUND)).toBe(false);
    expect(isNsmlError(cause)).toBe(false);
  });

  it('uses only NSML_E_ codes', () => {
    for (const code of Object.values(ErrorCodes)) expect(code).toMatch(/^NSML_E_[A-Z_]+$/);
  });
});
