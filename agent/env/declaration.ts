import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCodes, NsmlError, errorMessage } from '../../common/errors.js';
import { repoRoot } from '../../common/proto/load.js';

/** The helper that parses setup.py (with `ast`, never running it), requirements.txt and pyproject.toml. */
export const READ_DECLARATION_PY = join(repoRoot(), 'agent', 'env', 'read-declaration.py');

/** The files that declare an environment; a workspace with none of them costs nothing. */
const DECLARATION_FILES = ['setup.py', 'requirements.txt', 'pyproject.toml'];

/** What the helper prints. */
interface HelperOutput {
  header: string;
  setupPy: string[] | null;
  requirementsTxt: string | null;
  pyproject: string[] | null;
  warnings: string[];
}

/** The packages a workspace asks for, as installer arguments. */
export interface Requirements {
  /**
   * In order, as NSML read them: setup.py's install_requires first, then `-r requirements.txt`,
   * then pyproject.toml's [project] dependencies; one install resolves them together.
   */
  installArgs: string[];
  /** The declarations' own text: what the environment's cache key covers. */
  fingerprint: string;
  /** Packages named (options and comments of requirements.txt left out). */
  count: number;
}

/** What a workspace declares about its environment. */
export interface Declaration {
  /** `#nsml: IMAGE`, the first line of setup.py; '' when none. */
  header: string;
  /** Undefined when nothing is required: the session runs without a virtual environment. */
  requirements: Requirements | undefined;
  /** Declarations found and not understood, for the session log. */
  warnings: string[];
}

/** Lines of requirements.txt that name a package (not blank, not a comment, not an option other than -e). */
export function countRequirementLines(text: string): number {
  return text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#') && (!l.startsWith('-') || /^(-e|--editable)\b/.test(l))).length;
}

/** Turns the helper's output into a Declaration. Pure. */
export function toDeclaration(out: HelperOutput): Declaration {
  const setup = out.setupPy ?? [];
  const pyproject = out.pyproject ?? [];
  const reqText = out.requirementsTxt ?? '';
  const count = setup.length + countRequirementLines(reqText) + pyproject.length;
  const hasReqFile = reqText.trim() !== '' && reqText.split('\n').some((l) => l.trim() !== '' && !l.trim().startsWith('#'));
  if (setup.length === 0 && pyproject.length === 0 && !hasReqFile) return { header: out.header, requirements: undefined, warnings: out.warnings };
  const installArgs = [...setup, ...(hasReqFile ? ['-r', 'requirements.txt'] : []), ...pyproject];
  const fingerprint = JSON.stringify({ setup, requirementsTxt: hasReqFile ? reqText : '', pyproject });
  return { header: out.header, requirements: { installArgs, fingerprint, count }, warnings: out.warnings };
}

/**
 * Reads the declarations of `workspace` with `python` running the helper (which parses, never
 * executes, the workspace's files). A workspace with none of them costs one short Python start.
 */
export async function readDeclaration(workspace: string, python: string, signal?: AbortSignal): Promise<Declaration> {
  if (!DECLARATION_FILES.some((f) => existsSync(join(workspace, f)))) return { header: '', requirements: undefined, warnings: [] }; // no cost
  const r = await execa(python, ['-S', '-I', READ_DECLARATION_PY, workspace], { reject: false, timeout: 30_000, cancelSignal: signal, extendEnv: false, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8' } });
  if (r.exitCode !== 0) {
    const why = String(r.stderr || errorMessage(r)).trim().split('\n').slice(-1)[0];
    throw new NsmlError(ErrorCodes.ENV_BUILD_FAILED, `cannot read the workspace's setup.py, requirements.txt or pyproject.toml with ${python}: ${why}`);
  }
  return toDeclaration(JSON.parse(String(r.stdout)) as HelperOutput);
}
