/**
 * A small, lenient XML reader for nvidia-smi's `-q -x` output. It never fetches a DTD and
 * expands only the five predefined entities and numeric character references, so a document
 * cannot pull in files or blow up through entity expansion. Mismatched end tags (seen from real
 * drivers) close up to the matching open element and are otherwise ignored.
 */

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** The element's own character data, concatenated (children's text not included). */
  text: string;
}

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

export function decodeEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|[a-zA-Z]+);/g, (whole, ref: string) => {
    if (ref.startsWith('#x')) return codePoint(Number.parseInt(ref.slice(2), 16), whole);
    if (ref.startsWith('#')) return codePoint(Number.parseInt(ref.slice(1), 10), whole);
    return PREDEFINED[ref] ?? whole;
  });
}

function codePoint(value: number, fallback: string): string {
  return Number.isInteger(value) && value > 0 && value <= 0x10ffff ? String.fromCodePoint(value) : fallback;
}

const ATTR = /([A-Za-z_:][-\w:.]*)\s*=\s*("([^"]*)"|'([^']*)')/g;

function parseAttrs(source: string): Record<string, string> {
  const attrs: Record<string, string> = {};
  for (const match of source.matchAll(ATTR)) attrs[match[1]!] = decodeEntities(match[3] ?? match[4] ?? '');
  return attrs;
}

/** Parses a document; returns its root element, or undefined when there is none. */
export function parseXml(source: string): XmlElement | undefined {
  const root: XmlElement = { name: '#document', attrs: {}, children: [], text: '' };
  const stack: XmlElement[] = [root];
  let pos = 0;
  while (pos < source.length) {
    const lt = source.indexOf('<', pos);
    const end = lt < 0 ? source.length : lt;
    if (end > pos) stack[stack.length - 1]!.text += decodeEntities(source.slice(pos, end));
    if (lt < 0) break;
    pos = readMarkup(source, lt, stack);
  }
  for (const element of allElements(root)) element.text = element.text.trim();
  return root.children[0];
}

/** Handles one markup construct starting at `lt`; returns the position after it. */
function readMarkup(source: string, lt: number, stack: XmlElement[]): number {
  if (source.startsWith('<!--', lt)) return after(source, '-->', lt + 4);
  if (source.startsWith('<![CDATA[', lt)) {
    const close = source.indexOf(']]>', lt + 9);
    const stop = close < 0 ? source.length : close;
    stack[stack.length - 1]!.text += source.slice(lt + 9, stop);
    return close < 0 ? source.length : close + 3;
  }
  if (source.startsWith('<?', lt)) return after(source, '?>', lt + 2);
  if (source.startsWith('<!', lt)) return skipDeclaration(source, lt);
  const gt = source.indexOf('>', lt + 1);
  if (gt < 0) return source.length;
  const body = source.slice(lt + 1, gt);
  if (body.startsWith('/')) closeElement(stack, body.slice(1).trim());
  else openElement(stack, body);
  return gt + 1;
}

function after(source: string, marker: string, from: number): number {
  const at = source.indexOf(marker, from);
  return at < 0 ? source.length : at + marker.length;
}

/** Skips `<!DOCTYPE ...>`, including an internal subset in brackets, without reading it. */
function skipDeclaration(source: string, lt: number): number {
  let depth = 0;
  for (let i = lt + 2; i < source.length; i++) {
    const c = source[i];
    if (c === '[') depth++;
    else if (c === ']') depth = Math.max(0, depth - 1);
    else if (c === '>' && depth === 0) return i + 1;
  }
  return source.length;
}

function openElement(stack: XmlElement[], body: string): void {
  const selfClosing = body.endsWith('/');
  const inner = selfClosing ? body.slice(0, -1) : body;
  const nameEnd = inner.search(/[\s/]/);
  const name = (nameEnd < 0 ? inner : inner.slice(0, nameEnd)).trim();
  if (name.length === 0) return;
  const element: XmlElement = { name, attrs: nameEnd < 0 ? {} : parseAttrs(inner.slice(nameEnd)), children: [], text: '' };
  stack[stack.length - 1]!.children.push(element);
  if (!selfClosing) stack.push(element);
}

function closeElement(stack: XmlElement[], name: string): void {
  for (let i = stack.length - 1; i > 0; i--) {
    if (stack[i]!.name === name) {
      stack.length = i;
      return;
    }
  }
}

function* allElements(element: XmlElement): Generator<XmlElement> {
  const pending = [element];
  while (pending.length > 0) {
    const next = pending.pop()!;
    yield next;
    pending.push(...next.children);
  }
}

/** The first child with this name. */
export function child(element: XmlElement | undefined, name: string): XmlElement | undefined {
  return element?.children.find((c) => c.name === name);
}

/** Every child with this name. */
export function childrenNamed(element: XmlElement | undefined, name: string): XmlElement[] {
  return element ? element.children.filter((c) => c.name === name) : [];
}

/** Follows a `a/b/c` path of child names. */
export function at(element: XmlElement | undefined, path: string): XmlElement | undefined {
  let current = element;
  for (const part of path.split('/')) {
    current = child(current, part);
    if (!current) return undefined;
  }
  return current;
}

/** The text at the first of several candidate paths that exists (schemas drift between drivers). */
export function textAt(element: XmlElement | undefined, ...paths: string[]): string | undefined {
  for (const path of paths) {
    const found = at(element, path);
    if (found) return found.text;
  }
  return undefined;
}
