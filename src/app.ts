import Router from '@koa/router';
import Koa from 'koa';
import type { Builds } from './builds/builds-port.js';
import type { Config } from './config.js';
import type { EventStreams } from './events/event-log.js';
import { requireToken } from './http/auth.js';
import { addBuildRoutes } from './http/build-routes.js';
import { addClientRoutes } from './http/client-routes.js';
import { corsFor } from './http/cors.js';
import { errorHandler } from './http/error-handler.js';
import { hostGuard } from './http/host-guard.js';
import { hostOriginPolicy } from './http/host-origin-policy.js';
import { moduleCors } from './http/module-cors.js';
import { ALWAYS_HEALTHY, addMiscRoutes, type HealthReport } from './http/misc-routes.js';
import { originGuard } from './http/origin-guard.js';
import { urlRedactor } from './http/redact-url.js';
import { requestLog, requestLogger } from './http/request-log.js';
import { securityHeaders } from './http/security-headers.js';
import { serveStatic } from './http/static-files.js';
import { addVendorRoutes } from './http/vendor-routes.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import { publicDir } from './paths.js';

export interface AppDeps {
  readonly config: Config;
  readonly service: Builds;
  readonly eventLog: EventStreams;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** What GET /healthz says (one process: always ok; a cluster: whether Redis answers). */
  readonly checkHealth?: () => HealthReport;
}

/**
 * The Koa app: middleware and routes, nothing else. It never listens; see server.ts. The SSE
 * stream is served in front of it (http/stream-endpoint.ts).
 */
export function createApp(deps: AppDeps): Koa {
  const { config, logger } = deps;
  const app = new Koa();
  app.silent = true; // errors are logged by errorHandler, and a client leaving is not an error
  app.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'ERR_STREAM_PREMATURE_CLOSE' || error.code === 'EPIPE' || error.code === 'ECONNRESET') return;
    logger.error({ err: error }, 'response failed');
  });

  app.use(errorHandler(logger, urlRedactor(config.authToken)));
  app.use(requestLog(requestLogger(logger, config.authToken)));
  app.use(securityHeaders());
  const policy = hostOriginPolicy(config);
  app.use(hostGuard(policy, config.trustProxy));
  const cors = corsFor(config.corsOrigins);
  if (cors) app.use(cors);
  app.use(moduleCors(config.corsOrigins));

  const guarded = new Router();
  if (config.authToken !== null) {
    guarded.use(['/api', '/metrics'], requireToken(config.authToken));
  }
  guarded.use(['/api', '/metrics'], originGuard(policy, config.trustProxy));
  addBuildRoutes(guarded, { service: deps.service, eventLog: deps.eventLog, projectsRoots: config.projectsRoots });
  addMiscRoutes(guarded, { projectsRoots: config.projectsRoots, registry: deps.metrics.registry, checkHealth: deps.checkHealth ?? ALWAYS_HEALTHY });
  addVendorRoutes(guarded);
  addClientRoutes(guarded);
  app.use(guarded.routes());
  // Not thrown: the router sets Allow, and errorHandler turns its 405 and 501 into JSON.
  app.use(guarded.allowedMethods());
  app.use(serveStatic(publicDir));
  return app;
}
