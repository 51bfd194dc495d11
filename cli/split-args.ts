import { ErrorCodes, NsmlError } from '../common/errors.js';

/**
 * Splits a command line into arguments the way a POSIX shell would, without running one:
 * whitespace separates, '...' is literal, "..." allows \" \\ \$ \` escapes, and a backslash
 * outside quotes takes the next character literally. No globbing, no variables.
 */
export function splitArgs(text: string): string[] {
  const args: string[] = [];
  let current = '';
  let inArg = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n') {
      if (inArg) args.push(current);
      current = '';
      inArg = false;
      i += 1;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw unterminated(text, "'");
      current += text.slice(i + 1, end);
      inArg = true;
      i = end + 1;
    } else if (c === '"') {
      const [value, next] = readDoubleQuoted(text, i + 1);
      current += value;
      inArg = true;
      i = next;
    } else if (c === '\\') {
      if (i + 1 < text.length && text[i + 1] !== '\n') current += text[i + 1];
      inArg = inArg || i + 1 < text.length;
      i += 2;
    } else {
      current += c;
      inArg = true;
      i += 1;
    }
  }
  if (inArg) args.push(current);
  return args;
}

function readDoubleQuoted(text: string, start: number): [string, number] {
  let value = '';
  let i = start;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') return [value, i + 1];
    if (c === '\\' && i + 1 < text.length && '"\\$`\n'.includes(text[i + 1]!)) {
      if (text[i + 1] !== '\n') value += text[i + 1];
      i += 2;
    } else {
      value += c;
      i += 1;
    }
  }
  throw unterminated(text, '"');
}

function unterminated(text: string, quote: string): NsmlError {
  return new NsmlError(ErrorCodes.USAGE, `unterminated ${quote} in arguments ${JSON.stringify(text)}; close the quote or escape it with \\`);
}
