/**
 * Ignore files in the common gitignore syntax: `#` comments, globs (`*`, `?`, `[a-z]`), `**`
 * across directories, a leading `/` (or any inner `/`) anchoring to the file's directory, a
 * trailing `/` for directories only, `!` to re-include, `\` to escape. The last rule that
 * matches wins; rules of deeper directories come after those of their parents.
 */
export interface IgnoreRule {
  /** Matched against the path relative to `base`. */
  regex: RegExp;
  negate: boolean;
  dirOnly: boolean;
  /** The directory of the ignore file, relative to the workspace root ('' for the root). */
  base: string;
  /** `path:line`, for messages. */
  source: string;
}

export interface CompiledPattern {
  regex: RegExp;
  negate: boolean;
  dirOnly: boolean;
}

/** Compiles one line of an ignore file; undefined for blank lines and comments. */
export function compilePattern(line: string): CompiledPattern | undefined {
  let p = trimTrailingSpaces(line.replace(/\r$/, ''));
  if (p === '' || p.startsWith('#')) return undefined;
  let negate = false;
  if (p.startsWith('!')) {
    negate = true;
    p = p.slice(1);
  } else if (p.startsWith('\\!') || p.startsWith('\\#')) {
    p = p.slice(1);
  }
  let dirOnly = false;
  if (p.endsWith('/') && !p.endsWith('\\/')) {
    dirOnly = true;
    p = p.replace(/\/+$/, '');
  }
  const anchored = p.includes('/');
  p = p.replace(/^\/+/, '');
  if (p === '') return undefined;
  const body = translatePath(p);
  return { regex: new RegExp(anchored ? `^${body}$` : `^(?:.*/)?${body}$`), negate, dirOnly };
}

/** Parses a whole ignore file found in directory `base`. */
export function parseIgnoreFile(text: string, base: string, file: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  text.split('\n').forEach((line, i) => {
    const compiled = compilePattern(line);
    if (compiled) rules.push({ ...compiled, base, source: `${file}:${i + 1}` });
  });
  return rules;
}

/** An immutable list of rules; `with` adds the rules of a subdirectory. */
export class IgnoreMatcher {
  constructor(readonly rules: readonly IgnoreRule[] = []) {}

  with(more: IgnoreRule[]): IgnoreMatcher {
    return more.length === 0 ? this : new IgnoreMatcher([...this.rules, ...more]);
  }

  /** The rule that decides `path` (relative to the root, '/'-separated), if any. */
  decidingRule(path: string, isDir: boolean): IgnoreRule | undefined {
    for (let i = this.rules.length - 1; i >= 0; i -= 1) {
      const rule = this.rules[i]!;
      if (rule.dirOnly && !isDir) continue;
      const sub = relativeTo(rule.base, path);
      if (sub !== undefined && rule.regex.test(sub)) return rule;
    }
    return undefined;
  }

  ignores(path: string, isDir: boolean): boolean {
    const rule = this.decidingRule(path, isDir);
    return rule !== undefined && !rule.negate;
  }
}

function relativeTo(base: string, path: string): string | undefined {
  if (base === '') return path;
  return path.startsWith(base + '/') ? path.slice(base.length + 1) : undefined;
}

function trimTrailingSpaces(text: string): string {
  let end = text.length;
  while (end > 0 && (text[end - 1] === ' ' || text[end - 1] === '\t')) {
    if (end >= 2 && text[end - 2] === '\\') break;
    end -= 1;
  }
  return text.slice(0, end);
}

function translatePath(pattern: string): string {
  const segments = pattern.split('/');
  let out = '';
  segments.forEach((segment, i) => {
    const last = i === segments.length - 1;
    if (segment === '**') out += last ? '.*' : '(?:.*/)?';
    else out += translateSegment(segment) + (last ? '' : '/');
  });
  return out;
}

function translateSegment(segment: string): string {
  let out = '';
  for (let i = 0; i < segment.length; i += 1) {
    const c = segment[i]!;
    if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '\\' && i + 1 < segment.length) out += escapeRegex(segment[++i]!);
    else if (c === '[') {
      const cls = readClass(segment, i);
      if (cls) {
        out += cls.regex;
        i = cls.end;
      } else {
        out += '\\[';
      }
    } else out += escapeRegex(c);
  }
  return out;
}

/** A bracket expression starting at `start`; undefined when it is not closed. */
function readClass(segment: string, start: number): { regex: string; end: number } | undefined {
  let i = start + 1;
  let negate = false;
  if (segment[i] === '!' || segment[i] === '^') {
    negate = true;
    i += 1;
  }
  let body = '';
  let first = true;
  for (; i < segment.length; i += 1) {
    const c = segment[i]!;
    if (c === ']' && !first) return { regex: `[${negate ? '^/' : ''}${body}]`, end: i };
    if (c === '\\' && i + 1 < segment.length) body += escapeClass(segment[++i]!);
    else body += c === '-' ? '-' : escapeClass(c);
    first = false;
  }
  return undefined;
}

function escapeRegex(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? `\\${c}` : c;
}

function escapeClass(c: string): string {
  return /[\]\\[^]/.test(c) ? `\\${c}` : c;
}
