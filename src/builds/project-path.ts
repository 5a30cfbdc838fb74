import fs from 'node:fs';
import path from 'node:path';
import { HttpError, InvalidBodyError, NotAProjectError, OutsideRootsError } from '../errors.js';

/** The server could not look at the project for want of file descriptors: nothing is wrong with the request. */
export class OutOfDescriptorsError extends HttpError {
  constructor() {
    super(503, 'out_of_file_descriptors', 'The server has no file descriptor free to check the project; try again in a moment.', {}, { 'Retry-After': '5' });
  }
}

/**
 * Resolves a requested project path to the real folder a build may run in: relative paths
 * start at the first root, symlinks are resolved (also in a missing path's existing
 * ancestors), and the result must lie inside a root and hold a package.json with a
 * `build` script. The build then runs in exactly the folder that was checked.
 */
export async function resolveProjectPath(requested: string, roots: readonly string[]): Promise<string> {
  if (requested.includes('\0')) throw new InvalidBodyError('projectPath must not contain a NUL character.');
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
    throw new NotAProjectError(`${folder} does not exist.`);
  }
  if (!stat.isDirectory()) throw new NotAProjectError(`${folder} is not a folder.`);
  let script: string | null;
  try {
    script = await readBuildScript(folder);
  } catch (error) {
    throwIfOutOfDescriptors(error);
    throw new NotAProjectError(`${folder} has no package.json.`);
  }
  if (script === null) throw new NotAProjectError(`${folder}/package.json has no "build" script.`);
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
