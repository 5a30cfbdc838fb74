import fs from 'node:fs';
import path from 'node:path';
import type Router from '@koa/router';
import { repoRoot } from '../paths.js';

/**
 * The typed client as a browser module, GET /client.js: the compiled file itself, which
 * imports nothing at run time, so the page, the element and other sites' pages run the same
 * code that Node programs import from the package.
 */
const CLIENT_FILE = path.join(repoRoot, 'dist', 'client', 'build-log-client.js');

export function addClientRoutes(router: Router): void {
  router.get('/client.js', async (ctx, next) => {
    if (!fs.existsSync(CLIENT_FILE)) return next();
    ctx.type = 'application/javascript; charset=utf-8';
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = fs.createReadStream(CLIENT_FILE);
  });
}
