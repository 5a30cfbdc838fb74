import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const FIXTURES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'projects');

/** A temporary PROJECTS_ROOT holding copies of the fixture projects, and a project outside it. */
export interface ProjectsRoot {
  /** Real path of the root. */
  readonly root: string;
  /** A buildable project outside the root; `escape-link` inside the root points to it. */
  readonly outside: string;
  /** Real path of a project in the root. */
  project(name: string): string;
  /** Writes the options that a fixture's build.js reads (fixture.json). */
  configure(name: string, options: Record<string, unknown>): void;
  /** Adds a copy of a fixture under another name (for builds that must not collide). */
  copy(name: string, as: string): string;
  remove(): void;
}

/** Copies every fixture project into a fresh temp folder; builds write yarn.lock there, not in the repo. */
export function makeProjectsRoot(): ProjectsRoot {
  const base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'buildlog-test-')));
  const root = path.join(base, 'projects');
  fs.cpSync(FIXTURES_DIR, root, { recursive: true });
  const outside = path.join(base, 'outside', 'evil');
  fs.mkdirSync(outside, { recursive: true });
  fs.writeFileSync(path.join(outside, 'package.json'), JSON.stringify({ name: 'evil', version: '1.0.0', private: true, scripts: { build: "node -e \"console.log('evil ran')\"" } }));
  fs.symlinkSync(outside, path.join(root, 'escape-link'));
  return {
    root,
    outside,
    project: (name) => path.join(root, name),
    configure: (name, options) => fs.writeFileSync(path.join(root, name, 'fixture.json'), JSON.stringify(options)),
    copy: (name, as) => {
      fs.cpSync(path.join(root, name), path.join(root, as), { recursive: true });
      return path.join(root, as);
    },
    remove: () => fs.rmSync(base, { recursive: true, force: true }),
  };
}
