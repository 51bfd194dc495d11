import { describe, expect, it } from 'vitest';
import { resolveSession, resolveSessionName } from './session-ref.js';

describe('resolveSessionName', () => {
  it.each([
    ['alice/mnist/3', 'bob', 'alice/mnist/3'],
    ['mnist/3', 'bob', 'bob/mnist/3'],
    ['scratch/12', 'root', 'root/scratch/12'],
  ])('%s as %s is %s', (text, user, full) => {
    expect(resolveSessionName(text, user)).toBe(full);
  });

  it.each([
    ['root/scratch', /"root\/scratch" names no session \(no session number\); name a session as USER\/DATASET\/N \(e\.g\. root\/scratch\/1\), or DATASET\/N .*\(e\.g\. scratch\/1\); `nsml ps -a -d scratch`/],
    ['mnist', /"mnist" names no session .*e\.g\. USER\/mnist\/1.*e\.g\. mnist\/1/],
    ['alice/mnist/x', /invalid session name "alice\/mnist\/x"/],
    ['a/b/c/4', /invalid session name/],
  ])('%s is refused: %s', (text, message) => {
    expect(() => resolveSessionName(text, 'root')).toThrow(expect.objectContaining({ code: 'NSML_E_INVALID_NAME', message: expect.stringMatching(message) }));
  });

  it('asks who the caller is only for DATASET/N', async () => {
    const asked: string[] = [];
    const client = { userName: async () => (asked.push('who'), 'carol') };
    expect(await resolveSession('mnist/2', client)).toBe('carol/mnist/2');
    expect(await resolveSession('dave/mnist/2', client)).toBe('dave/mnist/2');
    await expect(resolveSession('dave/mnist', client)).rejects.toThrow(/names no session/);
    expect(asked).toEqual(['who']);
  });
});
