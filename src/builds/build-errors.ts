import type { Build } from './build-record.js';

// Named errors of the build service. They carry facts only; src/http/error-map.ts decides
// what each one looks like over HTTP (issue 9: the same service behind other transports).

/** No build has this id (or the id is not one a build could have). */
export class BuildNotFoundError extends Error {
  constructor(readonly id: string) {
    super(`no build with id ${JSON.stringify(id).slice(0, 80)}`);
    this.name = 'BuildNotFoundError';
  }
}

/** The project already has a queued or running build: `build` is a snapshot of it. */
export class AlreadyBuildingError extends Error {
  constructor(readonly build: Build) {
    super(`${build.projectPath} already has a ${build.status} build (${build.id})`);
    this.name = 'AlreadyBuildingError';
  }
}

/** A cancel came for a build that is already over: `build` is a snapshot of it. */
export class NotRunningError extends Error {
  constructor(readonly build: Build) {
    super(`build ${build.id} is already over (${build.status})`);
    this.name = 'NotRunningError';
  }
}

/** The queue already holds `limit` waiting builds (MAX_QUEUED_BUILDS). */
export class QueueFullError extends Error {
  constructor(readonly limit: number) {
    super(`${limit} builds are already waiting`);
    this.name = 'QueueFullError';
  }
}

/** The service is stopping and takes no new build. */
export class ShuttingDownError extends Error {
  constructor() {
    super('the build service is shutting down');
    this.name = 'ShuttingDownError';
  }
}

/** The cluster's Redis does not answer: nothing that needs it can be done now. */
export class StorageUnavailableError extends Error {
  constructor(readonly reason: string) {
    super(`the cluster's Redis is unavailable: ${reason}`);
    this.name = 'StorageUnavailableError';
  }
}
