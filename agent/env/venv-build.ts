import { execa } from 'execa';
import { ErrorCodes, NsmlError, errorMessage } from '../../common/errors.js';
import type { Command } from './installer.js';

export interface BuildSteps {
  /** Creates the virtual environment (installer.ts venvCommand). */
  venv: Command;
  /** Shows the node interpreter's own packages when it is a virtual environment (installer.ts nodeSiteCommand). */
  nodeSite?: Command;
  /** Installs the packages into it (installer.ts installCommand). */
  install: Command;
  /** The installer's working folder: the workspace, so that `./pkg` and `--find-links DIR` resolve. */
  cwd: string;
  /** Every line the steps print, stdout and stderr in order. */
  onLine(line: string): void;
  signal: AbortSignal;
  env?: NodeJS.ProcessEnv;
  /** The account the installer runs as (agent/run-as); absent: the agent's own. */
  user?: { uid: number; gid: number };
}

const INSTALLER_VARS = /^(PATH|LANG|LANGUAGE|TZ|TMPDIR|LC_\w+|PIP_\w+|UV_\w+|https?_proxy|no_proxy|all_proxy|HTTPS?_PROXY|NO_PROXY|ALL_PROXY|SSL_CERT_FILE|SSL_CERT_DIR|REQUESTS_CA_BUNDLE)$/;

/**
 * What of the agent's environment an installer run as a session's user sees: where to find
 * programs, locale, the admin's package index and proxy settings (PIP_*, UV_*, *_proxy, CA
 * files), nothing else of the agent's (its settings, a cloud credential in its service unit).
 */
export function installerEnv(base: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined && INSTALLER_VARS.test(k)) out[k] = v;
  return out;
}

/** The installer's own reason: its last `ERROR:` line, else its last line. */
export function installerReason(lines: readonly string[]): string {
  const errors = lines.filter((l) => /^\s*ERROR:|^\s*error:/.test(l));
  const last = errors.at(-1) ?? [...lines].reverse().find((l) => l.trim() !== '') ?? 'no output';
  return last.trim();
}

async function step(c: Command, o: BuildSteps, lines: string[]): Promise<void> {
  const child = execa(c.file, c.args, {
    cwd: o.cwd, reject: false, all: true, stdin: 'ignore', cancelSignal: o.signal, env: { PIP_NO_INPUT: '1', ...o.env }, buffer: false,
    ...(o.user ? { uid: o.user.uid, gid: o.user.gid, extendEnv: false, env: { ...installerEnv(process.env), PIP_NO_INPUT: '1', ...o.env } } : {}),
  });
  let rest = '';
  child.all?.on('data', (chunk: Buffer) => {
    const parts = (rest + chunk.toString('utf8')).split(/\r?\n/);
    rest = parts.pop() ?? '';
    for (const l of parts) {
      lines.push(l);
      o.onLine(l);
    }
  });
  const r = await child;
  if (rest !== '') {
    lines.push(rest);
    o.onLine(rest);
  }
  if (o.signal.aborted) throw new NsmlError(ErrorCodes.SPAWN_FAILED, 'stopped while the environment was being built');
  if (r.exitCode !== 0) {
    if (r.exitCode === undefined && o.user && /\bEACCES\b/.test(errorMessage(r))) {
      throw new NsmlError(
        ErrorCodes.ENV_BUILD_FAILED,
        `environment build failed: the session's account (uid ${o.user.uid}) may not run ${c.file}; give the agent a Python every account can run (--python /usr/bin/python3, or --pythons)`,
      );
    }
    const why = r.exitCode === undefined ? errorMessage(r) : installerReason(lines);
    throw new NsmlError(ErrorCodes.ENV_BUILD_FAILED, `environment build failed: ${why}`);
  }
}

/** Creates a virtual environment and installs into it; throws NSML_E_ENV_BUILD_FAILED with the installer's error. */
export async function buildVenv(o: BuildSteps): Promise<void> {
  const lines: string[] = [];
  await step(o.venv, o, lines);
  if (o.nodeSite) await step(o.nodeSite, o, lines);
  await step(o.install, o, lines);
}
