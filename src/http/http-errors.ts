// Errors that exist only because of HTTP (auth, headers, bodies, routes, stream slots). Domain
// errors carry no status: error-map.ts gives them theirs.

/** An error that the error middleware turns into `{ error: { code, message } }` with its status. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Extra top-level fields of the error body (e.g. the build a 409 is about). */
    readonly body: Readonly<Record<string, unknown>> = {},
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

export class UnauthorizedError extends HttpError {
  constructor() {
    super(401, 'unauthorized', 'This server needs a token: send Authorization: Bearer <token> or ?token=<token>.', {}, {
      'WWW-Authenticate': 'Bearer',
    });
  }
}

/** The request addresses a host that is not allowed (DNS rebinding); the message says which hosts are. */
export class ForbiddenHostError extends HttpError {
  constructor(message: string) {
    super(403, 'forbidden_host', message);
  }
}

/** The request's Origin is not an allowed one; the message names the received and expected origins. */
export class ForbiddenOriginError extends HttpError {
  constructor(message: string) {
    super(403, 'forbidden_origin', message);
  }
}

export class UnsupportedMediaTypeError extends HttpError {
  constructor(type: string | undefined) {
    super(
      415,
      'unsupported_media_type',
      `Send the body as application/json or application/x-www-form-urlencoded, not ${type ? `"${type}"` : 'without a Content-Type'}.`,
    );
  }
}

export class BodyTooLargeError extends HttpError {
  constructor(limitBytes: number) {
    super(413, 'body_too_large', `The body is larger than ${limitBytes / 1024} KiB.`);
  }
}

export class InvalidBodyError extends HttpError {
  constructor(message: string) {
    super(400, 'invalid_body', message);
  }
}

export class InvalidRequestError extends HttpError {
  constructor(code: string, message: string) {
    super(400, code, message);
  }
}

export class PoolFullError extends HttpError {
  constructor(limit: number) {
    super(503, 'too_many_clients', `All ${limit} stream slots are in use; retry in a few seconds.`, {}, {
      'Retry-After': '5',
    });
  }
}

export class TooManyStreamsError extends HttpError {
  constructor(limit: number) {
    super(429, 'too_many_streams', `This address already holds ${limit} streams; close one, or retry in a few seconds.`, {}, {
      'Retry-After': '5',
    });
  }
}

export class RouteNotFoundError extends HttpError {
  constructor(method: string, path: string) {
    super(404, 'not_found', `There is no ${method} ${path.slice(0, 200)}.`);
  }
}

/** The method is not one this route (or this server) takes; Allow lists those it does. */
export class MethodNotAllowedError extends HttpError {
  constructor(method: string, allow: string) {
    super(405, 'method_not_allowed', `${method.slice(0, 40)} is not a method this route takes; it takes ${allow}.`, {}, { Allow: allow });
  }
}

/** A URL path that cannot name a file: undecodable percent-escapes, or a NUL byte. */
export class BadPathError extends HttpError {
  constructor(path: string) {
    super(400, 'bad_path', `The path ${JSON.stringify(path.slice(0, 200))} is not a valid file path.`);
  }
}

/** A static-file path that climbs out of the page's folder (`/../etc/passwd`). */
export class PathTraversalError extends HttpError {
  constructor(path: string) {
    super(403, 'path_traversal', `The path ${JSON.stringify(path.slice(0, 200))} leads outside the page's files.`);
  }
}

/** An error nothing knows: the answer says only that it was logged, never what it was. */
export class InternalServerError extends HttpError {
  constructor() {
    super(500, 'internal_error', 'Something went wrong on the server; it has been logged.');
  }
}
