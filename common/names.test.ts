import { describe, expect, it } from 'vitest';
import { parseSessionName, validateCheckpointName, validateDatasetName, validateRelativePath } from './names.js';

describe('parseSessionName', () => {
  it.each([
    ['alice/mnist/3', { user: 'alice', dataset: 'mnist', n: 3 }],
    ['bob.k/scratch/12', { user: 'bob.k', dataset: 'scratch', n: 12 }],
  ])('accepts %s', (text, expected) => {
    expect(parseSessionName(text)).toEqual(expected);
  });

  it.each(['', 'alice', 'alice/mnist', 'alice//3', '../mnist/3', 'alice/../3', 'alice/mnist/0', 'alice/mnist/x', 'al\u0001ice/mnist/1', 'alice/mnist/1/2', 'alice/MNIST/1'])(
    'rejects %j with NSML_E_INVALID_NAME',
    (text) => {
      expect(() => parseSessionName(text)).toThrow(expect.objectContaining({ code: 'NSML_E_INVALID_NAME' }));
    },
  );
});

describe('other names', () => {
  it.each(['mnist', 'cifar-10', 'a_b', '0x'])('dataset %s is valid', (n) => expect(validateDatasetName(n)).toBe(n));
  it.each(['Mnist', '', '-x', 'a/b', 'a'.repeat(65), 'a b'])('dataset %j is invalid', (n) => {
    expect(() => validateDatasetName(n)).toThrow(/lowercase letters/);
  });
  it.each(['best', '10', 'epoch-3.pt'])('checkpoint %s is valid', (n) => expect(validateCheckpointName(n)).toBe(n));
  it.each(['', '.', '..', 'a/b', 'a\nb'])('checkpoint %j is invalid', (n) => expect(() => validateCheckpointName(n)).toThrow());
  it.each(['a.py', 'src/b.py', 'x/y/z'])('path %s is valid', (p) => expect(validateRelativePath(p)).toBe(p));
  it.each(['', '/etc/passwd', '../x', 'a/../b', 'a//b', './a', 'a\\b', 'a\u0000'])('path %j is invalid', (p) => {
    expect(() => validateRelativePath(p)).toThrow(expect.objectContaining({ code: 'NSML_E_INVALID_NAME' }));
  });
});
