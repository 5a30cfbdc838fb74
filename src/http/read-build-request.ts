import bodyParser from 'koa-bodyparser';
import type { Context } from 'koa';
import { BodyTooLargeError, InvalidBodyError, InvalidRequestError, UnsupportedMediaTypeError } from './http-errors.js';
import { MAX_BODY_BYTES } from './error-handler.js';

const parseBody = bodyParser({
  enableTypes: ['json', 'form'],
  jsonLimit: `${MAX_BODY_BYTES}b`,
  formLimit: `${MAX_BODY_BYTES}b`,
  strict: true,
});

/** What a POST /api/project/build asks for. */
export interface BuildRequest {
  readonly projectPath: string;
  readonly idempotencyKey: string | null;
}

/**
 * Reads and checks the body and headers of a build request, in the contract's order of
 * errors: 415 for another content type, 413 over 16 KiB, then 400 for a malformed body.
 */
export async function readBuildRequest(ctx: Context): Promise<BuildRequest> {
  // null: the request has no body at all; false: it has one of another type.
  const kind = ctx.request.is('json', 'urlencoded');
  if (kind === false) throw new UnsupportedMediaTypeError(ctx.get('Content-Type') || undefined);
  if (kind === null) throw new InvalidBodyError('Send a JSON or form body with projectPath.');
  try {
    await parseBody(ctx, async () => {});
  } catch (error) {
    throw bodyError(error);
  }
  const projectPath = (ctx.request.body as Record<string, unknown> | undefined)?.projectPath;
  if (typeof projectPath !== 'string' || projectPath.trim() === '') {
    throw new InvalidBodyError('projectPath is required and must be a non-empty string.');
  }
  return { projectPath, idempotencyKey: readIdempotencyKey(ctx) };
}

/** The body parser's errors (co-body, raw-body) as ours: too large, or not parsable. */
function bodyError(error: unknown): unknown {
  const status = (error as { status?: unknown })?.status;
  if (status === 413) return new BodyTooLargeError(MAX_BODY_BYTES);
  if (status === 400) return new InvalidBodyError('The body could not be parsed; send valid JSON or a urlencoded form.');
  return error;
}

/** `Idempotency-Key`: 1 to 200 visible ASCII characters, or absent. */
function readIdempotencyKey(ctx: Context): string | null {
  const key = ctx.get('Idempotency-Key');
  if (key === '') return null;
  if (!/^[\x21-\x7e]{1,200}$/.test(key)) {
    throw new InvalidRequestError('invalid_idempotency_key', 'Idempotency-Key must be 1 to 200 visible ASCII characters.');
  }
  return key;
}
