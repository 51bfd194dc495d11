/**
 * What a failed nvidia-smi run means. The driver's own words are kept as the message, so an
 * operator reads on the dashboard exactly what nvidia-smi printed.
 */
import { normalizeBusId } from './values.js';

export type SmiFailureKind =
  /** No nvidia-smi on PATH: a node without NVIDIA GPUs, not an error. */
  | 'missing'
  /** The driver answers that there is no GPU. */
  | 'no-devices'
  | 'driver-not-loaded'
  | 'version-mismatch'
  | 'nvml-missing'
  | 'nvml-error'
  /** Some GPUs could not be opened (`Unable to determine the device handle for GPU …`). */
  | 'gpu-handle'
  | 'invalid-field'
  | 'timeout'
  | 'other';

export interface GpuHandleError {
  /** Normalized bus id (see normalizeBusId). */
  busId: string;
  /** The driver's reason after the bus id, e.g. `GPU is lost. Reboot the system to recover this GPU`. */
  reason: string;
  /** The whole line as printed. */
  line: string;
  lost: boolean;
}

export interface SmiFailure {
  kind: SmiFailureKind;
  /** The original text (trimmed, first lines), or a description when nvidia-smi printed nothing. */
  message: string;
  handles: GpuHandleError[];
}

const HANDLE_LINE = /Unable to (?:determine|detect) the device handle for GPU\s*([0-9A-Fa-f]+:[0-9A-Fa-f]+:[0-9A-Fa-f]+\.[0-9A-Fa-f]+|[0-9A-Fa-f]+:[0-9A-Fa-f]+\.[0-9A-Fa-f]+)\s*:\s*(.*)$/;

/** The lost/unusable GPUs named in nvidia-smi output. */
export function parseHandleErrors(text: string): GpuHandleError[] {
  const errors: GpuHandleError[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const match = HANDLE_LINE.exec(line);
    if (!match) continue;
    const reason = match[2]!.replace(/\s+/g, ' ').trim();
    errors.push({ busId: normalizeBusId(match[1]!), reason, line, lost: /GPU is lost/i.test(reason) });
  }
  return errors;
}

/** Keeps the first few meaningful lines of what nvidia-smi printed. */
export function summarizeOutput(stdout: string, stderr: string, maxLines = 4): string {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const raw of `${stderr}\n${stdout}`.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.length === 0 || seen.has(line) || line.startsWith('<')) continue;
    seen.add(line);
    lines.push(line);
    if (lines.length >= maxLines) break;
  }
  return lines.join(' ');
}

/** Classifies a non-zero exit (or a run that printed an error) from its output and code. */
export function classifySmiFailure(stdout: string, stderr: string, exitCode: number | null): SmiFailure {
  const text = `${stderr}\n${stdout}`;
  const message = summarizeOutput(stdout, stderr) || `nvidia-smi exited with code ${exitCode ?? 'unknown'} and printed nothing`;
  const handles = parseHandleErrors(text);
  return { kind: kindOf(text, exitCode, handles), message, handles };
}

function kindOf(text: string, exitCode: number | null, handles: GpuHandleError[]): SmiFailureKind {
  if (/couldn't communicate with the NVIDIA driver/i.test(text)) return 'driver-not-loaded';
  if (/Driver\/library version mismatch/i.test(text)) return 'version-mismatch';
  if (/couldn't find libnvidia-ml/i.test(text)) return 'nvml-missing';
  if (/No devices were found/i.test(text)) return 'no-devices';
  if (handles.length > 0) return 'gpu-handle';
  if (/Failed to initialize NVML/i.test(text)) return 'nvml-error';
  if (/is not a valid field to query/i.test(text)) return 'invalid-field';
  if (exitCode === 9) return 'driver-not-loaded';
  if (exitCode === 12) return 'nvml-missing';
  if (exitCode === 15) return 'gpu-handle';
  return 'other';
}

/** True for failures that concern the whole node (no GPU can be used or seen). */
export function isNodeFailure(kind: SmiFailureKind): boolean {
  return kind === 'driver-not-loaded' || kind === 'version-mismatch' || kind === 'nvml-missing' || kind === 'nvml-error' || kind === 'other';
}
