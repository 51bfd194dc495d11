import { describe, expect, it } from 'vitest';
import { IgnoreMatcher, compilePattern, parseIgnoreFile } from './ignore-rules.js';

function matcher(text: string, base = ''): IgnoreMatcher {
  return new IgnoreMatcher(parseIgnoreFile(text, base, '.gitignore'));
}

describe('ignore rules', () => {
  it.each([
    // pattern, path, isDir, ignored
    ['*.log', 'a.log', false, true],
    ['*.log', 'deep/dir/a.log', false, true],
    ['*.log', 'a.logs', false, false],
    ['data', 'data', true, true],
    ['data', 'src/data', false, true],
    ['/data', 'data', true, true],
    ['/data', 'src/data', true, false],
    ['data/', 'data', true, true],
    ['data/', 'data', false, false],
    ['data/', 'src/data', true, true],
    ['src/tmp', 'src/tmp', true, true],
    ['src/tmp', 'x/src/tmp', true, false],
    ['**/cache', 'cache', true, true],
    ['**/cache', 'a/b/cache', true, true],
    ['logs/**', 'logs/a/b.txt', false, true],
    ['logs/**', 'logs', true, false],
    ['a/**/b', 'a/b', false, true],
    ['a/**/b', 'a/x/y/b', false, true],
    ['a/**/b', 'a/xb', false, false],
    ['**', 'anything/at/all', false, true],
    ['?.txt', 'a.txt', false, true],
    ['?.txt', 'ab.txt', false, false],
    ['*.txt', 'dir/sub.txt', false, true],
    ['d*/x', 'dd/x', false, true],
    ['d*/x', 'd/e/x', false, false],
    ['[abc].py', 'b.py', false, true],
    ['[abc].py', 'd.py', false, false],
    ['[!abc].py', 'd.py', false, true],
    ['[a-c]x', 'bx', false, true],
    ['\\#notes', '#notes', false, true],
    ['#comment', '#comment', false, false],
    ['\\!bang', '!bang', false, true],
    ['a.py   ', 'a.py', false, true],
    ['weird[', 'weird[', false, true],
    ['a+b(c).py', 'a+b(c).py', false, true],
    ['*.py\n!keep.py', 'keep.py', false, false],
    ['*.py\n!keep.py', 'other.py', false, true],
    ['!keep.py\n*.py', 'keep.py', false, true],
    ['', 'a', false, false],
  ])('%j on %s (dir %s) ignores: %s', (pattern, path, isDir, ignored) => {
    expect(matcher(pattern).ignores(path, isDir)).toBe(ignored);
  });

  it('anchors the rules of a subdirectory to it', () => {
    const m = matcher('/build\n*.tmp', 'sub');
    expect(m.ignores('sub/build', true)).toBe(true);
    expect(m.ignores('build', true)).toBe(false);
    expect(m.ignores('sub/x/y.tmp', false)).toBe(true);
    expect(m.ignores('y.tmp', false)).toBe(false);
  });

  it('lets later files override earlier ones', () => {
    const m = new IgnoreMatcher(parseIgnoreFile('*.csv', '', '.gitignore')).with(parseIgnoreFile('!small.csv', '', '.nsmlignore'));
    expect(m.ignores('big.csv', false)).toBe(true);
    expect(m.ignores('small.csv', false)).toBe(false);
    expect(m.decidingRule('small.csv', false)?.source).toBe('.nsmlignore:1');
  });

  it('skips blank lines and comments', () => {
    expect(compilePattern('   ')).toBeUndefined();
    expect(compilePattern('# x')).toBeUndefined();
    expect(compilePattern('/')).toBeUndefined();
    expect(parseIgnoreFile('\n# c\n*.o\r\n', '', 'f')).toHaveLength(1);
  });
});
