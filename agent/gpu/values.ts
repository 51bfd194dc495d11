/**
 * Values as nvidia-smi prints them: numbers with units (`35.06 W`, `11125 MiB`, `7 %`), and
 * "not available" words (`N/A`, `[N/A]`, `[Not Supported]`, `Requested functionality has been
 * deprecated`, `[REDACTED]`, ...). A number is a finite number or absent, never NaN.
 */

const NUMBER_WITH_UNIT = /^([-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)\s*([A-Za-z%/()]*(?:\s*\(s\))?)?$/;

/** The text without surrounding space and brackets; `undefined` when it says "not available". */
export function availableText(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  let text = raw.trim();
  if (text.startsWith('[') && text.endsWith(']')) return undefined;
  if (text.length === 0) return undefined;
  if (isUnavailableWord(text)) return undefined;
  return text;
}

function isUnavailableWord(text: string): boolean {
  const lower = text.toLowerCase();
  return (
    lower === 'n/a' ||
    lower === 'na' ||
    lower === 'none' ||
    lower === 'not found' ||
    lower === 'not supported' ||
    lower === 'unknown error' ||
    lower === 'insufficient permissions' ||
    lower === 'function not found' ||
    lower === 'requested functionality has been deprecated'
  );
}

/** A number from `35.06 W`, `7 %`, `11125 MiB`, `192 bank(s)`, `0x1F` is not a number. */
export function parseNumber(raw: string | undefined): number | undefined {
  const text = availableText(raw);
  if (text === undefined) return undefined;
  const match = NUMBER_WITH_UNIT.exec(text);
  if (!match) return undefined;
  const value = Number(match[1]);
  return Number.isFinite(value) ? value : undefined;
}

/** A non-negative integer (counts, PIDs, MiB); `undefined` for anything else. */
export function parseCount(raw: string | undefined): number | undefined {
  const value = parseNumber(raw);
  if (value === undefined || value < 0) return undefined;
  return Number.isInteger(value) ? value : Math.round(value);
}

/** Memory in MiB from `81920 MiB` (also `GiB`/`KiB`, and bare numbers taken as MiB). */
export function parseMib(raw: string | undefined): number | undefined {
  const text = availableText(raw);
  if (text === undefined) return undefined;
  const match = NUMBER_WITH_UNIT.exec(text);
  if (!match) return undefined;
  const value = Number(match[1]);
  if (!Number.isFinite(value) || value < 0) return undefined;
  const unit = (match[2] ?? '').trim().toLowerCase();
  const factor = unit === 'gib' || unit === 'gb' ? 1024 : unit === 'kib' || unit === 'kb' ? 1 / 1024 : 1;
  return Math.round(value * factor);
}

/** `Yes`/`Active`/`Enabled` → true, `No`/`Not Active`/`Disabled` → false, else undefined. */
export function parseFlag(raw: string | undefined): boolean | undefined {
  const text = availableText(raw)?.toLowerCase();
  if (text === undefined) return undefined;
  if (text === 'yes' || text === 'active' || text === 'enabled' || text === 'true') return true;
  if (text === 'no' || text === 'not active' || text === 'disabled' || text === 'false') return false;
  return undefined;
}

/** Bus ids compare equal across widths: `0000:02:00.0`, `00000000:02:00.0`, `02:00.0`. */
export function normalizeBusId(raw: string): string {
  const text = raw.trim().toUpperCase();
  const parts = text.split(':');
  if (parts.length === 3) {
    const domain = parts[0]!.replace(/^0+/, '') || '0';
    return `${domain}:${parts[1]}:${parts[2]}`;
  }
  if (parts.length === 2) return `0:${parts[0]}:${parts[1]}`;
  return text;
}
