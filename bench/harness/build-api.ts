import { FIXTURE_PROJECT, type BigOutputParams, type BuildControl, type BuildParams } from './bench-fixture.js';
import type { ServerProcess } from './server-process.js';

/**
 * Starts a build of a fixture project (sse-lines unless told) through the contract's
 * POST /api/project/build (the LIMIT and SEED servers answer it too); returns the build id and
 * the control files that pace it.
 */
export async function startBuild(server: ServerProcess, params: BuildParams | BigOutputParams, project: string = FIXTURE_PROJECT): Promise<{ id: string; control: BuildControl }> {
  const control = server.fixture.prepareBuild(params, project);
  const response = await fetch(`${server.url}/api/project/build`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ projectPath: project }),
  });
  const text = await response.text();
  if (response.status !== 202) throw new Error(`${server.kind}: POST /api/project/build answered ${response.status} ${text.slice(0, 300)}`);
  return { id: (JSON.parse(text) as { build: { id: string } }).build.id, control };
}

/** Polls GET /api/builds/<id> until the build is over. */
export async function waitForBuildEnd(server: ServerProcess, id: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await fetch(`${server.url}/api/builds/${id}`);
    const { status } = (await response.json()) as { status: string };
    if (status !== 'queued' && status !== 'running') return;
    if (Date.now() > deadline) throw new Error(`${server.kind}: build ${id} still ${status} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
