import Router from '@koa/router';
import Koa from 'koa';
import type { Config } from '../config.js';
import { requireToken } from '../http/auth.js';
import { errorHandler } from '../http/error-handler.js';
import { hostGuard } from '../http/host-guard.js';
import { hostOriginPolicy } from '../http/host-origin-policy.js';
import { addHealthRoutes, type HealthReport } from '../http/misc-routes.js';
import { urlRedactor } from '../http/redact-url.js';
import { requestLog, requestLogger } from '../http/request-log.js';
import { securityHeaders } from '../http/security-headers.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';

/** The HTTP side of ROLE=worker: GET /healthz and GET /metrics, nothing else (every other path is a JSON 404). */
export function createWorkerApp(config: Config, metrics: Metrics, checkHealth: () => HealthReport, logger: Logger): Koa {
  const app = new Koa();
  app.silent = true;
  app.use(errorHandler(logger, urlRedactor(config.authToken)));
  app.use(requestLog(requestLogger(logger, config.authToken)));
  app.use(securityHeaders());
  app.use(hostGuard(hostOriginPolicy(config), config.trustProxy));
  const router = new Router();
  if (config.authToken !== null) router.use('/metrics', requireToken(config.authToken));
  addHealthRoutes(router, { registry: metrics.registry, checkHealth });
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
