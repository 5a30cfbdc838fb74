import type Router from '@koa/router';
import { listProjects } from '../builds/list-projects.js';
import type { Registry } from 'prom-client';

/** GET /api/projects, /healthz and /metrics. */
export function addMiscRoutes(router: Router, deps: { projectsRoots: readonly string[]; registry: Registry; checkHealth: () => HealthReport }): void {
  router.get('/api/projects', async (ctx) => {
    ctx.body = { projects: await listProjects(deps.projectsRoots) };
  });
  addHealthRoutes(router, deps);
}

/** What GET /healthz answers: 200 when the process can do its work, 503 with why not. */
export type HealthReport = { readonly status: 'ok' } | { readonly status: 'unavailable'; readonly reason: string };

export const ALWAYS_HEALTHY = (): HealthReport => ({ status: 'ok' });

/** GET /healthz and /metrics: the routes every role serves, a cluster's workers included. */
export function addHealthRoutes(router: Router, deps: { registry: Registry; checkHealth: () => HealthReport }): void {
  router.get('/healthz', (ctx) => {
    const report = deps.checkHealth();
    ctx.status = report.status === 'ok' ? 200 : 503;
    if (report.status !== 'ok') ctx.set('Retry-After', '5');
    ctx.body = report;
  });

  router.get('/metrics', async (ctx) => {
    ctx.type = deps.registry.contentType;
    ctx.body = await deps.registry.metrics();
  });
}
