import fs from 'node:fs';
import path from 'node:path';
import { isInside, readBuildScript } from './project-path.js';

export interface Project {
  name: string;
  path: string;
  hasBuildScript: boolean;
}

/**
 * The folders directly inside each root that hold a package.json, by name. A link is listed
 * under its own name with its real path, unless it leads outside the roots.
 */
export async function listProjects(roots: readonly string[]): Promise<Project[]> {
  const projects: Project[] = [];
  for (const root of roots) {
    let entries: fs.Dirent[];
    try {
      entries = await fs.promises.readdir(root, { withFileTypes: true });
    } catch {
      continue;
    }
    const found = await Promise.all(
      entries
        .filter((entry) => entry.isDirectory() || entry.isSymbolicLink())
        .map((entry) => describeProject(entry.name, path.join(root, entry.name), roots)),
    );
    for (const project of found) if (project) projects.push(project);
  }
  return projects.sort((a, b) => a.name.localeCompare(b.name) || a.path.localeCompare(b.path));
}

async function describeProject(name: string, folder: string, roots: readonly string[]): Promise<Project | null> {
  try {
    const real = await fs.promises.realpath(folder);
    if (!roots.some((root) => isInside(real, root))) return null;
    if (!(await fs.promises.stat(real)).isDirectory()) return null;
    const script = await readBuildScript(real);
    return { name, path: real, hasBuildScript: script !== null };
  } catch {
    return null; // no package.json, a dangling link, or unreadable: not a project
  }
}
