import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface UnitSpec {
  description: string;
  /** The command and its arguments, unquoted. */
  execStart: string[];
  user?: string;
  /** Absolute path of a file of KEY=VALUE lines (secrets stay out of the unit). */
  environmentFile?: string;
  /** [Service] settings after ExecStart, in order; a value of `#...` is written as a comment. */
  service: Array<[string, string]>;
}

/** Quotes one ExecStart word for systemd: `%` and `$` doubled, quotes where needed. */
export function quoteUnitWord(word: string): string {
  const escaped = word.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  if (escaped !== '' && /^[A-Za-z0-9_@%+=:,./$-]+$/.test(escaped)) return escaped;
  return `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function renderUnit(spec: UnitSpec): string {
  const lines = [
    '[Unit]',
    `Description=${spec.description}`,
    'After=network-online.target',
    'Wants=network-online.target',
    '',
    '[Service]',
    'Type=simple',
  ];
  if (spec.user) lines.push(`User=${spec.user}`);
  if (spec.environmentFile) lines.push(`EnvironmentFile=${spec.environmentFile}`);
  lines.push(`ExecStart=${spec.execStart.map(quoteUnitWord).join(' ')}`);
  for (const [key, value] of spec.service) lines.push(key.startsWith('#') ? key : `${key}=${value}`);
  lines.push('', '[Install]', 'WantedBy=multi-user.target', '');
  return lines.join('\n');
}

export interface WrittenUnit {
  unitPath: string;
  environmentPath: string | undefined;
}

/**
 * Writes `NAME.service` into `dir`, and, when `environment` has entries, `NAME.env` beside it
 * readable by its owner only.
 */
export function writeUnit(dir: string, name: string, spec: Omit<UnitSpec, 'environmentFile'>, environment: Record<string, string>): WrittenUnit {
  const out = resolve(dir);
  mkdirSync(out, { recursive: true });
  let environmentPath: string | undefined;
  if (Object.keys(environment).length > 0) {
    environmentPath = join(out, `${name}.env`);
    writeFileSync(environmentPath, Object.entries(environment).map(([k, v]) => `${k}=${v}\n`).join(''), { mode: 0o600 });
    chmodSync(environmentPath, 0o600);
  }
  const unitPath = join(out, `${name}.service`);
  writeFileSync(unitPath, renderUnit({ ...spec, environmentFile: environmentPath }));
  return { unitPath, environmentPath };
}
