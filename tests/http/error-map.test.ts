import { AlreadyBuildingError, BuildNotFoundError, NotRunningError, QueueFullError, ShuttingDownError } from '../../src/builds/build-errors.js';
import { newBuild } from '../../src/builds/build-record.js';
import { InvalidProjectPathError, NotAProjectError, OutOfDescriptorsError, OutsideRootsError } from '../../src/builds/project-errors.js';
import { errorBody, toHttpError } from '../../src/http/error-handler.js';
import { ERROR_MAP } from '../../src/http/error-map.js';
import { InternalServerError } from '../../src/http/http-errors.js';

/** What a client receives for an error: status, headers and the JSON body. */
function answerTo(error: unknown) {
  const httpError = toHttpError(error);
  return { status: httpError.status, headers: httpError.headers, body: errorBody(httpError) };
}

const queued = newBuild('b-1', '/projects/site', new Date(0));
const over = { ...newBuild('b-2', '/projects/site', new Date(0)), status: 'failed' as const };

describe('the error map', () => {
  it.each([
    [new BuildNotFoundError('nope'), 404, 'build_not_found', 'There is no build with id "nope".'],
    [new ShuttingDownError(), 503, 'shutting_down', 'The server is shutting down; try again in a moment.'],
    [new InvalidProjectPathError('a\0b'), 400, 'invalid_body', 'projectPath must not contain a NUL character.'],
    [new OutsideRootsError('/etc'), 403, 'outside_roots', '/etc is not inside a PROJECTS_ROOT folder.'],
    [new NotAProjectError('/p/x', 'missing'), 400, 'not_a_project', '/p/x does not exist.'],
    [new NotAProjectError('/p/x', 'not_a_folder'), 400, 'not_a_project', '/p/x is not a folder.'],
    [new NotAProjectError('/p/x', 'no_package_json'), 400, 'not_a_project', '/p/x has no package.json.'],
    [new NotAProjectError('/p/x', 'no_build_script'), 400, 'not_a_project', '/p/x/package.json has no "build" script.'],
    [new OutOfDescriptorsError(), 503, 'out_of_file_descriptors', 'The server has no file descriptor free to check the project; try again in a moment.'],
    [new QueueFullError(20), 429, 'queue_full', '20 builds are already waiting; try again when one has started.'],
  ])('answers %s with %i %s and its message', (error, status, code, message) =>
    expect(answerTo(error)).toMatchObject({ status, body: { error: { code, message } } }));

  it('cuts a long unknown id in the message to 80 characters of JSON', () =>
    expect(answerTo(new BuildNotFoundError('x'.repeat(500))).body).toEqual({
      error: { code: 'build_not_found', message: `There is no build with id "${'x'.repeat(79)}.` },
    }));

  it('tells a client of a busy queue, a stopping server or a lack of descriptors when to retry', () => {
    expect(answerTo(new QueueFullError(20)).headers).toEqual({ 'Retry-After': '10' });
    expect(answerTo(new ShuttingDownError()).headers).toEqual({ 'Retry-After': '5' });
    expect(answerTo(new OutOfDescriptorsError()).headers).toEqual({ 'Retry-After': '5' });
  });

  it('sends no header for an error that retrying will not cure', () => {
    for (const error of [new BuildNotFoundError('b-1'), new NotAProjectError('/p', 'missing'), new OutsideRootsError('/etc'), new AlreadyBuildingError(queued)]) {
      expect(answerTo(error).headers).toEqual({});
    }
  });

  it('puts the build a project is busy with in the body of 409 already_building', () =>
    expect(answerTo(new AlreadyBuildingError(queued))).toEqual({
      status: 409,
      headers: {},
      body: { error: { code: 'already_building', message: '/projects/site already has a queued build (b-1).' }, build: queued },
    }));

  it('puts the build that is over in the body of 409 not_running', () =>
    expect(answerTo(new NotRunningError(over))).toEqual({
      status: 409,
      headers: {},
      body: { error: { code: 'not_running', message: 'Build b-2 is already over (failed).' }, build: over },
    }));

  it('adds no body field beyond the error to anything but a 409', () =>
    expect(Object.keys(answerTo(new QueueFullError(3)).body)).toEqual(['error']));

  it('answers an error it does not know with 500 internal_error, saying nothing of it', () =>
    expect(answerTo(new Error('secret /etc/shadow'))).toEqual({
      status: 500,
      headers: {},
      body: { error: { code: 'internal_error', message: 'Something went wrong on the server; it has been logged.' } },
    }));

  it('marks the unknown error as one to log, and a mapped 503 as not', () => {
    expect(toHttpError(new TypeError('x'))).toBeInstanceOf(InternalServerError);
    expect(toHttpError(new ShuttingDownError())).not.toBeInstanceOf(InternalServerError);
  });

  it('has one rule per domain error class', () => {
    const classes = ERROR_MAP.map(([errorClass]) => errorClass);
    expect(new Set(classes).size).toBe(classes.length);
  });
});
