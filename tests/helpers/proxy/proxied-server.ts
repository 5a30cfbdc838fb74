import { makeProjectsRoot, type ProjectsRoot } from '../projects.js';
import { startTestServer, type TestServer } from '../test-server.js';
import type { NginxVariant } from './nginx-config.js';
import { freePort } from '../free-port.js';
import { startNginx, type RunningNginx } from './nginx.js';

/** How the server learns the address people use: PUBLIC_URL, or the forwarded headers. */
export type ProxyAwareness = 'public-url' | 'trust-proxy' | 'none';

/** The real server on a fresh projects root, behind nginx. */
export interface ProxiedServer {
  readonly projects: ProjectsRoot;
  readonly server: TestServer;
  readonly nginx: RunningNginx;
  /** Stops nginx, then the server, and removes the projects (idempotent). */
  stop(): Promise<void>;
}

/**
 * Starts the server (quick heartbeats, so that a test sees several) and nginx in front of
 * it. With 'public-url' the nginx port is chosen first, because PUBLIC_URL must name it.
 */
export async function startProxiedServer(variant: NginxVariant, awareness: ProxyAwareness, env: Record<string, string> = {}): Promise<ProxiedServer> {
  const projects = makeProjectsRoot();
  const port = awareness === 'public-url' ? await freePort() : undefined;
  const awarenessEnv: Record<string, string> =
    awareness === 'public-url' ? { PUBLIC_URL: `https://localhost:${port}` } : awareness === 'trust-proxy' ? { TRUST_PROXY: 'true' } : {};
  let server: TestServer | undefined;
  let nginx: RunningNginx | undefined;
  const stop = async () => {
    await nginx?.stop();
    await server?.stop();
    projects.remove();
  };
  try {
    server = await startTestServer({ PROJECTS_ROOT: projects.root, HEARTBEAT_MS: '300', RETRY_MS: '300', ...awarenessEnv, ...env });
    nginx = await startNginx(variant, server.port, port === undefined ? {} : { port });
  } catch (error) {
    await stop();
    throw error;
  }
  let stopping: Promise<void> | null = null;
  return { projects, server, nginx, stop: () => (stopping ??= stop()) };
}
