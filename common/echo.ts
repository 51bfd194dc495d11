/**
 * User input as it may appear in a message or on a terminal: control characters, Unicode bidi
 * controls and invisible format characters escaped (`\u202e`), so that a name cannot reorder or
 * hide the text around it, and long input cut (a 10 KB name is not echoed whole).
 */

/** How many characters of a value `echo` shows before cutting it. */
export const ECHO_MAX_CHARS = 64;

// C0 and C1 controls, DEL; the Arabic letter mark; zero-width and direction marks (U+200B–U+200F);
// line and paragraph separators and the bidi embeddings and overrides (U+2028–U+202E); word
// joiner, invisible operators and the bidi isolates (U+2060–U+206F); the BOM; lone surrogates.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const SHORT: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeChar(c: string): string {
  return SHORT[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** `text` with control, bidi and invisible format characters written as `\uXXXX` (`\n`, `\r`, `\t`). For printing names and memos. */
export function escapeText(text: string): string {
  return text.replace(UNSAFE, escapeChar);
}

/** The first `max` characters of `text`, not splitting a surrogate pair. */
function head(text: string, max: number): string {
  const cut = text.slice(0, max);
  const last = cut.charCodeAt(cut.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut;
}

/**
 * A value quoted for an error message, like JSON.stringify but safe to print: unsafe characters
 * escaped, and past `max` characters cut, with the full size: `"aaaa…" (10240 bytes)`.
 */
export function echo(value: unknown, max = ECHO_MAX_CHARS): string {
  const text = typeof value === 'string' ? value : String(value);
  const long = text.length > max;
  const shown = long ? head(text, max) : text;
  const quoted = `"${escapeText(shown.replace(/[\\"]/g, (c) => `\\${c}`))}${long ? '…' : ''}"`;
  return long ? `${quoted} (${Buffer.byteLength(text)} bytes)` : quoted;
}
