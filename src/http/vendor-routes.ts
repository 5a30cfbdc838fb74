import fs from 'node:fs';
import path from 'node:path';
import type Router from '@koa/router';
import { repoRoot } from '../paths.js';

/**
 * Browser modules of our dependencies, served by us so that the page loads nothing from
 * another origin. Each is named explicitly: no path from the URL reaches the file system.
 */
const VENDOR_FILES: Readonly<Record<string, string>> = {
  'ansi_up.js': path.join(repoRoot, 'node_modules', 'ansi_up', 'ansi_up.js'),
};

export function addVendorRoutes(router: Router): void {
  router.get('/vendor/:file', async (ctx, next) => {
    const file = VENDOR_FILES[ctx.params.file ?? ''];
    if (!file) return next();
    ctx.type = 'text/javascript; charset=utf-8';
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = fs.createReadStream(file);
  });
}
