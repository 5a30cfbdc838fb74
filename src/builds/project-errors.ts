// Named errors of checking a requested project folder (project-path.ts). They carry facts
// only; src/http/error-map.ts decides what each one looks like over HTTP.

/** A requested projectPath no file system can hold: it contains a NUL character. */
export class InvalidProjectPathError extends Error {
  constructor(readonly requested: string) {
    super('projectPath contains a NUL character');
    this.name = 'InvalidProjectPathError';
  }
}

/** The real path (symlinks resolved) lies inside no PROJECTS_ROOT folder. */
export class OutsideRootsError extends Error {
  constructor(readonly projectPath: string) {
    super(`${projectPath} is not inside a PROJECTS_ROOT folder`);
    this.name = 'OutsideRootsError';
  }
}

/** Why a folder is not a project a build can run in. */
export type NotAProjectReason = 'missing' | 'not_a_folder' | 'no_package_json' | 'no_build_script';

/** The folder is not a project a build can run in; `reason` says what it lacks. */
export class NotAProjectError extends Error {
  constructor(
    readonly folder: string,
    readonly reason: NotAProjectReason,
  ) {
    super(`${folder} is not a project (${reason})`);
    this.name = 'NotAProjectError';
  }
}

/** The folder could not be looked at for want of file descriptors (EMFILE, ENFILE): nothing is wrong with the request. */
export class OutOfDescriptorsError extends Error {
  constructor() {
    super('no file descriptor free to check the project');
    this.name = 'OutOfDescriptorsError';
  }
}
