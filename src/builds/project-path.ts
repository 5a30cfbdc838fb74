import fs from 'node:fs';
import path from 'node:path';
import { InvalidProjectPathError, NotAProjectError, OutOfDescriptorsError, OutsideRootsError } from './project-errors.js';

/**
 * Resolves a requested project path to the real folder a build may run in: relative paths
 * start at the first root, symlinks are resolved (also in a missing path's existing
 * ancestors), and the result must lie inside a root and hold a package.json with a
 * `build` script. The build then runs in exactly the folder that was checked.
 */
export async function resolveProjectPath(requested: string, roots: readonly string[]): Promise<string> {
  if (requested.includes('\0')) throw new InvalidProjectPathError(requested);
  const absolute = path.resolve(roots[0]!, requested);
  const real = await realpathOfLongestExisting(absolute);
  if (!roots.some((root) => isInside(real, root))) throw new OutsideRootsError(real);
  await requireBuildScript(real);
  return real;
}

/** Whether `candidate` is `root` or a path below it (both real, absolute). */
export function isInside(candidate: string, root: string): boolean {
  const relative = path.relative(root, candidate);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/** The build script a project's package.json declares, or null. Throws when there is no readable package.json. */
export async function readBuildScript(folder: string): Promise<string | null> {
  const text = await fs.promises.readFile(path.join(folder, 'package.json'), 'utf8');
  let manifest: unknown;
  try {
    manifest = JSON.parse(text);
  } catch {
    return null;
  }
  const script = (manifest as { scripts?: Record<string, unknown> } | null)?.scripts?.build;
  return typeof script === 'string' && script.trim() !== '' ? script : null;
}

async function requireBuildScript(folder: string): Promise<void> {
  let stat: fs.Stats;
  try {
    stat = await fs.promises.stat(folder);
  } catch (error) {
    throwIfOutOfDescriptors(error);
    throw new NotAProjectError(folder, 'missing');
  }
  if (!stat.isDirectory()) throw new NotAProjectError(folder, 'not_a_folder');
  let script: string | null;
  try {
    script = await readBuildScript(folder);
  } catch (error) {
    throwIfOutOfDescriptors(error);
    throw new NotAProjectError(folder, 'no_package_json');
  }
  if (script === null) throw new NotAProjectError(folder, 'no_build_script');
}

/** EMFILE or ENFILE say nothing about the project: the answer must not be `not_a_project`. */
function throwIfOutOfDescriptors(error: unknown): void {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EMFILE' || code === 'ENFILE') throw new OutOfDescriptorsError();
}

async function realpathOfLongestExisting(absolute: string): Promise<string> {
  const missing: string[] = [];
  let current = absolute;
  for (;;) {
    try {
      return path.join(await fs.promises.realpath(current), ...missing.reverse());
    } catch {
      const parent = path.dirname(current);
      if (parent === current) return absolute;
      missing.push(path.basename(current));
      current = parent;
    }
  }
}
