import { createRequire } from 'node:module';
import { makeProjectsRoot, type ProjectsRoot } from '../helpers/projects.js';
import { request, startBuild } from '../helpers/http.js';
import { expectToContainExactly, rebuildOutput, SseReader } from '../helpers/sse-reader.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const require = createRequire(import.meta.url);
const { randomPayload } = require('../fixtures/projects/random-bytes/random-payload.cjs') as {
  randomPayload(seed: number, size: number): { payload: Buffer; chunkSizes: number[] };
};

const SEEDS = [1, 2, 3, 4, 5, 6];
const SIZE = 200000;

describe('fuzz: random bytes in random chunks (seeded, repeatable)', () => {
  let projects: ProjectsRoot;
  let server: TestServer;
  let global: SseReader;

  beforeAll(async () => {
    projects = makeProjectsRoot();
    server = await startTestServer({ PROJECTS_ROOT: projects.root });
    global = new SseReader(`${server.url}/api/log/push`);
    await global.connected;
  });

  afterAll(async () => {
    global?.close();
    await server?.stop();
    projects?.remove();
  });

  it.each(SEEDS)('every reader rebuilds the output of seed %i exactly', async (seed) => {
    projects.configure('random-bytes', { seed, size: SIZE });
    const expected = new TextDecoder().decode(randomPayload(seed, SIZE).payload);
    const build = await startBuild(server.url, 'random-bytes');
    const stream = new SseReader(`${server.url}${build.streamUrl}`);
    await stream.closed;
    await global.waitFor((r) => r.named('build').some((e) => e.json.build.id === build.id && e.json.build.status === 'succeeded'), 'the end of the build');

    expect(stream.events.at(-1)!.json.build.status).toBe('succeeded');
    expectToContainExactly(rebuildOutput(stream.events, build.id), expected);
    expect(rebuildOutput(global.events, build.id)).toBe(rebuildOutput(stream.events, build.id));
    expectToContainExactly((await request(`${server.url}${build.logUrl}?raw=1`)).text, expected);
    for (const event of stream.named('log')) {
      expect(Buffer.byteLength(event.json.text)).toBeLessThanOrEqual(65536);
      expect(event.json.text).not.toContain('\n');
    }
    // Nothing in the output became an event of its own.
    expect(new Set(stream.events.map((e) => e.event))).toEqual(new Set(['build', 'log', 'end']));
  }, 30000);
});
