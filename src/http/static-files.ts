import type { Middleware } from 'koa';
import serve from 'koa-static';
import { BadPathError, PathTraversalError, RouteNotFoundError } from './http-errors.js';

/**
 * The page's files from `root`, through koa-static, with its refusals as our errors: koa-send
 * throws bare 400s (an absolute path such as `//etc/passwd`, a NUL byte, a bad escape) and 403s
 * (`..`), which would otherwise reach the client as some other error's code.
 */
export function serveStatic(root: string): Middleware {
  const serveFiles = serve(root, { index: 'index.html' });
  return async (ctx, next) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    const decoded = safeDecode(ctx.path);
    if (decoded === null || decoded.includes('\0')) throw new BadPathError(ctx.path);
    try {
      await serveFiles(ctx, next);
    } catch (error) {
      const status = (error as { status?: unknown })?.status;
      if (status === 403) throw new PathTraversalError(ctx.path);
      // What is left of koa-send's 400s: a path that names an absolute file, which is none of ours.
      if (status === 400) throw new RouteNotFoundError(ctx.method, ctx.path);
      throw error;
    }
  };
}

function safeDecode(path: string): string | null {
  try {
    return decodeURIComponent(path);
  } catch {
    return null;
  }
}
