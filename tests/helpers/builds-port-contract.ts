import { AlreadyBuildingError, BuildNotFoundError, NotRunningError, QueueFullError } from '../../src/builds/build-errors.js';
import type { Builds } from '../../src/builds/builds-port.js';

/** A Builds under test, with room for exactly `capacity` builds of different projects at once. */
export interface BuildsUnderTest {
  readonly builds: Builds;
  readonly capacity: number;
  /** Project folders the port may be asked to build (each builds for a while). */
  readonly projects: readonly string[];
  close(): Promise<void>;
}

/** What a call throws or rejects with (one process's port throws at once, a cluster's rejects). */
async function rejection(call: () => unknown): Promise<unknown> {
  try {
    await call();
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/**
 * The behaviour every Builds keeps, wherever it keeps builds: one process's BuildService and a
 * cluster's ClusterBuilds run this same suite (the contract's POST, 409, 429, Idempotency-Key,
 * cancel and 404).
 */
export function describeBuildsPort(label: string, open: () => Promise<BuildsUnderTest>): void {
  describe(`${label} keeps the Builds contract`, () => {
    let subject: BuildsUnderTest;
    beforeEach(async () => {
      subject = await open();
    });
    afterEach(async () => {
      await subject.close();
    });

    it('queues a new build, and gets and lists it newest first', async () => {
      const first = await subject.builds.create(subject.projects[0]!, null);
      const second = await subject.builds.create(subject.projects[1]!, null);
      expect(first).toMatchObject({ isNew: true, build: { status: 'queued', projectPath: subject.projects[0], worker: null } });
      expect((await subject.builds.get(first.build.id)).id).toBe(first.build.id);
      expect((await subject.builds.list(10)).map((build) => build.id)).toEqual([second.build.id, first.build.id]);
      expect((await subject.builds.list(1)).map((build) => build.id)).toEqual([second.build.id]);
    });

    it('refuses a second build of a project that has one, naming the first', async () => {
      const first = await subject.builds.create(subject.projects[0]!, null);
      const error = await rejection(() => subject.builds.create(subject.projects[0]!, null));
      expect(error).toBeInstanceOf(AlreadyBuildingError);
      expect((error as AlreadyBuildingError).build.id).toBe(first.build.id);
    });

    it('answers a repeated Idempotency-Key with the build it started, not a new one', async () => {
      const first = await subject.builds.create(subject.projects[0]!, 'key-1');
      const again = await subject.builds.create(subject.projects[0]!, 'key-1');
      expect(again).toMatchObject({ isNew: false, build: { id: first.build.id } });
      expect((await subject.builds.findByIdempotencyKey('key-1'))?.id).toBe(first.build.id);
      expect(await subject.builds.findByIdempotencyKey('key-2')).toBeNull();
    });

    it('refuses builds past its capacity with QueueFullError', async () => {
      for (let i = 0; i < subject.capacity; i += 1) await subject.builds.create(subject.projects[i]!, null);
      expect(await rejection(() => subject.builds.create(subject.projects[subject.capacity]!, null))).toBeInstanceOf(QueueFullError);
    });

    it('cancels a build, which then frees its project, and refuses to cancel it twice', async () => {
      const { build } = await subject.builds.create(subject.projects[0]!, null);
      await subject.builds.cancel(build.id);
      await waitForStatus(subject.builds, build.id, 'cancelled');
      expect(await rejection(() => subject.builds.cancel(build.id))).toBeInstanceOf(NotRunningError);
      expect((await subject.builds.create(subject.projects[0]!, null)).isNew).toBe(true);
    });

    it('knows no build it never had', async () => {
      expect(await rejection(() => subject.builds.get('0000000000zzzzzz'))).toBeInstanceOf(BuildNotFoundError);
      expect(await rejection(() => subject.builds.cancel('0000000000zzzzzz'))).toBeInstanceOf(BuildNotFoundError);
    });
  });
}

async function waitForStatus(builds: Builds, id: string, status: string): Promise<void> {
  const deadline = Date.now() + 15000;
  while ((await builds.get(id)).status !== status) {
    if (Date.now() > deadline) throw new Error(`build ${id} did not become ${status}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
