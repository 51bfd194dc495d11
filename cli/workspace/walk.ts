import { type Dirent, type BigIntStats, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';
import { ErrorCodes, NsmlError, errorMessage } from '../../common/errors.js';
import { MAX_MANIFEST_ENTRIES } from '../../common/manifest.js';
import { validateRelativePath } from '../../common/names.js';
import { IgnoreMatcher, parseIgnoreFile } from './ignore-rules.js';

/** Names never packed, at any depth. */
export const ALWAYS_SKIPPED = ['.git', 'node_modules', '__pycache__', '.nsml'] as const;

/** Ignore files read in every directory; later ones override earlier ones. */
export const IGNORE_FILES = ['.gitignore', '.nsmlignore'] as const;

/** One regular file to pack. */
export interface WalkedFile {
  /** Relative to the workspace root, '/'-separated. */
  path: string;
  /** The file to read (through any symlinks). */
  absPath: string;
  size: number;
  mode: number;
  mtimeNs: bigint;
  ino: bigint;
}

interface Frame {
  dir: string;
  rel: string;
  matcher: IgnoreMatcher;
  /** Real paths of this directory and its ancestors, to refuse symlink loops. */
  ancestors: Set<string>;
}

/**
 * Lists the files of a workspace: honours .gitignore/.nsmlignore at every level, skips
 * ALWAYS_SKIPPED, follows symlinks that stay inside the root and refuses those that leave it
 * (NSML_E_WORKSPACE_SYMLINK_ESCAPES, naming the link).
 */
export function walkWorkspace(root: string): WalkedFile[] {
  let realRoot: string;
  try {
    realRoot = realpathSync(root);
  } catch (err) {
    throw new NsmlError(ErrorCodes.WORKSPACE_INVALID, `cannot read the workspace ${root}: ${errorMessage(err)}`, { cause: err });
  }
  const files: WalkedFile[] = [];
  walkDir({ dir: root, rel: '', matcher: new IgnoreMatcher(), ancestors: new Set([realRoot]) }, realRoot, files);
  return files;
}

function walkDir(frame: Frame, realRoot: string, files: WalkedFile[]): void {
  const matcher = frame.matcher.with(readIgnoreRules(frame));
  for (const dirent of readDir(frame.dir)) {
    if ((ALWAYS_SKIPPED as readonly string[]).includes(dirent.name)) continue;
    const abs = join(frame.dir, dirent.name);
    const rel = frame.rel === '' ? dirent.name : `${frame.rel}/${dirent.name}`;
    let target = abs;
    let stats: BigIntStats;
    if (dirent.isSymbolicLink()) {
      // Decided before resolving, so an ignored link may point anywhere (or nowhere).
      if (matcher.ignores(rel, false) || matcher.ignores(rel, true)) continue;
      target = resolveLink(abs, rel, realRoot);
      stats = statSync(target, { bigint: true });
    } else if (dirent.isDirectory() || dirent.isFile()) {
      stats = statSync(abs, { bigint: true });
    } else {
      continue;
    }
    const isDir = stats.isDirectory();
    if (matcher.ignores(rel, isDir)) continue;
    if (isDir) {
      const real = dirent.isSymbolicLink() ? target : realpathSync(abs);
      if (frame.ancestors.has(real)) {
        throw new NsmlError(ErrorCodes.WORKSPACE_INVALID, `symlink ${rel} loops back to a directory that contains it; remove it or add it to .nsmlignore`);
      }
      walkDir({ dir: abs, rel, matcher, ancestors: new Set([...frame.ancestors, real]) }, realRoot, files);
    } else if (stats.isFile()) {
      files.push(fileOf(rel, target, stats));
      if (files.length > MAX_MANIFEST_ENTRIES) {
        throw new NsmlError(ErrorCodes.TOO_LARGE, `the workspace has more than ${MAX_MANIFEST_ENTRIES} files; exclude data and outputs with .nsmlignore`);
      }
    }
  }
}

function fileOf(rel: string, absPath: string, stats: BigIntStats): WalkedFile {
  try {
    validateRelativePath(rel);
  } catch (err) {
    throw new NsmlError(ErrorCodes.WORKSPACE_INVALID, `cannot pack ${JSON.stringify(rel)}: ${errorMessage(err)}; rename it or add it to .nsmlignore`, { cause: err });
  }
  return { path: rel, absPath, size: Number(stats.size), mode: Number(stats.mode) & 0o777, mtimeNs: stats.mtimeNs, ino: stats.ino };
}

/** The real target of a symlink; refuses one that leaves the root or points nowhere. */
function resolveLink(abs: string, rel: string, realRoot: string): string {
  let real: string;
  try {
    real = realpathSync(abs);
  } catch (err) {
    throw new NsmlError(ErrorCodes.WORKSPACE_INVALID, `symlink ${rel} points to nothing (${errorMessage(err)}); remove it or add it to .nsmlignore`, { cause: err });
  }
  if (real !== realRoot && !real.startsWith(realRoot + sep)) {
    throw new NsmlError(
      ErrorCodes.WORKSPACE_SYMLINK_ESCAPES,
      `symlink ${rel} points to ${real}, outside the workspace ${realRoot}; copy what it needs into the workspace or add ${rel} to .nsmlignore`,
      { details: { link: rel, target: real } },
    );
  }
  return real;
}

function readIgnoreRules(frame: Frame) {
  return IGNORE_FILES.flatMap((name) => {
    let text: string;
    try {
      text = readFileSync(join(frame.dir, name), 'utf8');
    } catch {
      return [];
    }
    return parseIgnoreFile(text, frame.rel, frame.rel === '' ? name : `${frame.rel}/${name}`);
  });
}

function readDir(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch (err) {
    throw new NsmlError(ErrorCodes.WORKSPACE_INVALID, `cannot read ${dir}: ${errorMessage(err)}`, { cause: err });
  }
}

