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

/** How a tree is walked: `nsml run` packs a workspace with the defaults; datasets take every file. */
export interface WalkOptions {
  /** Ignore files honoured in every directory; default IGNORE_FILES. */
  ignoreFiles?: readonly string[];
  /** Names never walked, at any depth; default ALWAYS_SKIPPED. */
  skip?: readonly string[];
  /** What the tree is called in messages; default "workspace". */
  label?: string;
}

interface Rules {
  ignoreFiles: readonly string[];
  skip: readonly string[];
  label: string;
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
export function walkWorkspace(root: string, options: WalkOptions = {}): WalkedFile[] {
  const rules: Rules = { ignoreFiles: options.ignoreFiles ?? IGNORE_FILES, skip: options.skip ?? ALWAYS_SKIPPED, label: options.label ?? 'workspace' };
  let realRoot: string;
  try {
    realRoot = realpathSync(root);
  } catch (err) {
    throw new NsmlError(ErrorCodes.WORKSPACE_INVALID, `cannot read the ${rules.label} ${root}: ${errorMessage(err)}`, { cause: err });
  }
  const files: WalkedFile[] = [];
  walkDir({ dir: root, rel: '', matcher: new IgnoreMatcher(), ancestors: new Set([realRoot]) }, realRoot, files, rules);
  return files;
}

/** The "or add it to .nsmlignore" part of a hint, when ignore files are honoured. */
function orIgnore(rules: Rules, rel: string): string {
  return rules.ignoreFiles.length > 0 ? ` or add ${rel} to ${rules.ignoreFiles[rules.ignoreFiles.length - 1]}` : '';
}

function walkDir(frame: Frame, realRoot: string, files: WalkedFile[], rules: Rules): void {
  const matcher = frame.matcher.with(readIgnoreRules(frame, rules.ignoreFiles));
  for (const dirent of readDir(frame.dir)) {
    if (rules.skip.includes(dirent.name)) continue;
    const abs = join(frame.dir, dirent.name);
    const rel = frame.rel === '' ? dirent.name : `${frame.rel}/${dirent.name}`;
    let target = abs;
    let stats: BigIntStats;
    if (dirent.isSymbolicLink()) {
      // Decided before resolving, so an ignored link may point anywhere (or nowhere).
      if (matcher.ignores(rel, false) || matcher.ignores(rel, true)) continue;
      target = resolveLink(abs, rel, realRoot, rules);
      stats = statOf(target, rel, rules);
    } else if (dirent.isDirectory() || dirent.isFile()) {
      stats = statOf(abs, rel, rules);
    } else {
      continue;
    }
    const isDir = stats.isDirectory();
    if (matcher.ignores(rel, isDir)) continue;
    if (isDir) {
      const real = dirent.isSymbolicLink() ? target : realpathSync(abs);
      if (frame.ancestors.has(real)) {
        throw new NsmlError(ErrorCodes.WORKSPACE_INVALID, `symlink ${rel} loops back to a directory that contains it; remove it${orIgnore(rules, 'it')}`);
      }
      walkDir({ dir: abs, rel, matcher, ancestors: new Set([...frame.ancestors, real]) }, realRoot, files, rules);
    } else if (stats.isFile()) {
      files.push(fileOf(rel, target, stats, rules));
      if (files.length > MAX_MANIFEST_ENTRIES) {
        throw new NsmlError(ErrorCodes.TOO_LARGE, `the ${rules.label} has more than ${MAX_MANIFEST_ENTRIES} files; ${rules.ignoreFiles.length > 0 ? 'exclude data and outputs with .nsmlignore' : 'split it'}`);
      }
    }
  }
}

/** A file's stat; one that vanished since its folder was listed gets a clear error. */
function statOf(path: string, rel: string, rules: Rules): BigIntStats {
  try {
    return statSync(path, { bigint: true });
  } catch (err) {
    throw new NsmlError(ErrorCodes.FILE_CHANGED, `${rel} vanished while the ${rules.label} was being read (${errorMessage(err)}); run again once nothing writes to it`, { cause: err });
  }
}

function fileOf(rel: string, absPath: string, stats: BigIntStats, rules: Rules): WalkedFile {
  try {
    validateRelativePath(rel);
  } catch (err) {
    throw new NsmlError(ErrorCodes.WORKSPACE_INVALID, `cannot pack ${JSON.stringify(rel)}: ${errorMessage(err)}; rename it${orIgnore(rules, 'it')}`, { cause: err });
  }
  return { path: rel, absPath, size: Number(stats.size), mode: Number(stats.mode) & 0o777, mtimeNs: stats.mtimeNs, ino: stats.ino };
}

/** The real target of a symlink; refuses one that leaves the root or points nowhere. */
function resolveLink(abs: string, rel: string, realRoot: string, rules: Rules): string {
  let real: string;
  try {
    real = realpathSync(abs);
  } catch (err) {
    throw new NsmlError(ErrorCodes.WORKSPACE_INVALID, `symlink ${rel} points to nothing (${errorMessage(err)}); remove it${orIgnore(rules, 'it')}`, { cause: err });
  }
  if (real !== realRoot && !real.startsWith(realRoot + sep)) {
    throw new NsmlError(
      ErrorCodes.WORKSPACE_SYMLINK_ESCAPES,
      `symlink ${rel} points to ${real}, outside the ${rules.label} ${realRoot}; copy what it needs into the ${rules.label}${orIgnore(rules, rel)}`,
      { details: { link: rel, target: real } },
    );
  }
  return real;
}

function readIgnoreRules(frame: Frame, names: readonly string[]) {
  return names.flatMap((name) => {
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

