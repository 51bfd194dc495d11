import { describe, expect, it } from 'vitest';
import { splitArgs } from './split-args.js';

describe('splitArgs', () => {
  it.each([
    ['', []],
    ['   ', []],
    ['--lr 0.1 --epochs 5', ['--lr', '0.1', '--epochs', '5']],
    ['  a   b\tc\nd ', ['a', 'b', 'c', 'd']],
    [`--name 'my run' --x`, ['--name', 'my run', '--x']],
    [`--name "my run"`, ['--name', 'my run']],
    [`a"b c"d`, ['ab cd']],
    [`'it''s'`, ['its']],
    [`"say \\"hi\\""`, ['say "hi"']],
    [`"a\\nb"`, ['a\\nb']],
    [`'a\\b'`, ['a\\b']],
    [`a\\ b`, ['a b']],
    [`""`, ['']],
    [`x '' y`, ['x', '', 'y']],
    [`$HOME *.py`, ['$HOME', '*.py']],
    [`"$(rm -rf /)"`, ['$(rm -rf /)']],
    [`--json='{"a": 1}'`, ['--json={"a": 1}']],
  ])('%j splits into %j', (text, args) => expect(splitArgs(text)).toEqual(args));

  it.each([`'open`, `"open`, `a "b`])('%j has an unterminated quote', (text) => {
    expect(() => splitArgs(text)).toThrow(expect.objectContaining({ code: 'NSML_E_USAGE', message: expect.stringMatching(/unterminated/) }));
  });
});
