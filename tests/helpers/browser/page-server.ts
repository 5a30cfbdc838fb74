import fs from 'node:fs';
import path from 'node:path';
import { makeProjectsRoot, type ProjectsRoot } from '../projects.js';
import { startTestServer, type TestServer } from '../test-server.js';
import { REPO_ROOT } from './browser.js';

/** The fixture projects plus a copy of examples/demo-app, so that builds never write into the repository. */
export function makePageProjects(): ProjectsRoot {
  const projects = makeProjectsRoot();
  const demo = path.join(REPO_ROOT, 'examples', 'demo-app');
  fs.cpSync(demo, projects.project('demo-app'), {
    recursive: true,
    filter: (source) => !source.includes(`${path.sep}node_modules`) && path.basename(source) !== 'yarn.lock',
  });
  return projects;
}

/** The real server on a free port, reconnecting clients quickly. */
export function startPageServer(projects: ProjectsRoot, env: Record<string, string> = {}): Promise<TestServer> {
  return startTestServer({ PROJECTS_ROOT: projects.root, RETRY_MS: '300', ...env });
}

/** The server's count of open SSE connections (the buildlog_sse_clients gauge). */
export async function openStreams(baseUrl: string, headers: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`, { headers })).text();
  const match = /^buildlog_sse_clients (\d+)$/m.exec(text);
  if (!match) throw new Error('no buildlog_sse_clients in /metrics');
  return Number(match[1]);
}
