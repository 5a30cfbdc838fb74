import { AlreadyBuildingError, BuildNotFoundError, NotRunningError, QueueFullError, ShuttingDownError, StorageUnavailableError } from '../builds/build-errors.js';
import {
  InvalidProjectPathError,
  NotAProjectError,
  OutOfDescriptorsError,
  OutsideRootsError,
  type NotAProjectReason,
} from '../builds/project-errors.js';
import { HttpError } from './http-errors.js';

/** What one domain error looks like over HTTP (the contract, /work/shared/API.md). */
export interface HttpMapping {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Extra top-level fields of the error body (the build a 409 is about). */
  readonly extra?: Readonly<Record<string, unknown>>;
}

type ErrorClass<E extends Error> = abstract new (...args: never[]) => E;
type Rule = readonly [ErrorClass<Error>, (error: Error) => HttpMapping];

/** Pairs a class with its mapping so that the mapping sees the class's own fields. */
function rule<E extends Error>(errorClass: ErrorClass<E>, map: (error: E) => HttpMapping): Rule {
  return [errorClass, map as (error: Error) => HttpMapping];
}

const NOT_A_PROJECT_MESSAGES: Readonly<Record<NotAProjectReason, (folder: string) => string>> = {
  missing: (folder) => `${folder} does not exist.`,
  not_a_folder: (folder) => `${folder} is not a folder.`,
  no_package_json: (folder) => `${folder} has no package.json.`,
  no_build_script: (folder) => `${folder}/package.json has no "build" script.`,
};

/** The one table from domain errors to status, code, message, headers and extra body fields. */
export const ERROR_MAP: readonly Rule[] = [
  rule(BuildNotFoundError, (e) => ({
    status: 404,
    code: 'build_not_found',
    message: `There is no build with id ${JSON.stringify(e.id).slice(0, 80)}.`,
  })),
  rule(AlreadyBuildingError, (e) => ({
    status: 409,
    code: 'already_building',
    message: `${e.build.projectPath} already has a ${e.build.status} build (${e.build.id}).`,
    extra: { build: e.build },
  })),
  rule(NotRunningError, (e) => ({
    status: 409,
    code: 'not_running',
    message: `Build ${e.build.id} is already over (${e.build.status}).`,
    extra: { build: e.build },
  })),
  rule(QueueFullError, (e) => ({
    status: 429,
    code: 'queue_full',
    message: `${e.limit} builds are already waiting; try again when one has started.`,
    headers: { 'Retry-After': '10' },
  })),
  rule(ShuttingDownError, () => ({
    status: 503,
    code: 'shutting_down',
    message: 'The server is shutting down; try again in a moment.',
    headers: { 'Retry-After': '5' },
  })),
  rule(StorageUnavailableError, () => ({
    status: 503,
    code: 'storage_unavailable',
    message: "The cluster's Redis does not answer; try again in a moment.",
    headers: { 'Retry-After': '5' },
  })),
  rule(InvalidProjectPathError, () => ({
    status: 400,
    code: 'invalid_body',
    message: 'projectPath must not contain a NUL character.',
  })),
  rule(OutsideRootsError, (e) => ({
    status: 403,
    code: 'outside_roots',
    message: `${e.projectPath} is not inside a PROJECTS_ROOT folder.`,
  })),
  rule(NotAProjectError, (e) => ({
    status: 400,
    code: 'not_a_project',
    message: NOT_A_PROJECT_MESSAGES[e.reason](e.folder),
  })),
  rule(OutOfDescriptorsError, () => ({
    status: 503,
    code: 'out_of_file_descriptors',
    message: 'The server has no file descriptor free to check the project; try again in a moment.',
    headers: { 'Retry-After': '5' },
  })),
];

/** The HttpError a domain error maps to, or null when the table does not know it. */
export function mapDomainError(error: unknown): HttpError | null {
  for (const [errorClass, map] of ERROR_MAP) {
    if (!(error instanceof errorClass)) continue;
    const { status, code, message, headers = {}, extra = {} } = map(error);
    return new HttpError(status, code, message, extra, headers);
  }
  return null;
}
