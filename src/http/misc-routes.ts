import type Router from '@koa/router';
import { listProjects } from '../builds/list-projects.js';
import type { Registry } from 'prom-client';

/** GET /api/projects, /healthz and /metrics. */
export function addMiscRoutes(router: Router, deps: { projectsRoots: readonly string[]; registry: Registry }): void {
  router.get('/api/projects', async (ctx) => {
    ctx.body = { projects: await listProjects(deps.projectsRoots) };
  });

  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });

  router.get('/metrics', async (ctx) => {
    ctx.type = deps.registry.contentType;
    ctx.body = await deps.registry.metrics();
  });
}
