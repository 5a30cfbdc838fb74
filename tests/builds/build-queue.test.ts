import { BuildQueue } from '../../src/builds/build-queue.js';

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('BuildQueue', () => {
  it('starts jobs on a later turn, never inside add()', async () => {
    const started: string[] = [];
    const queue = new BuildQueue<string>(1, 1, (job) => started.push(job));
    queue.add('a');
    expect(started).toEqual([]);
    await nextTurn();
    expect(started).toEqual(['a']);
  });

  it('runs at most maxRunning at once, queues up to maxWaiting, and refuses beyond', async () => {
    const started: string[] = [];
    const queue = new BuildQueue<string>(2, 1, (job) => started.push(job));
    expect([queue.add('a'), queue.add('b'), queue.add('c')]).toEqual([true, true, true]);
    expect(queue.hasRoom).toBe(false);
    expect(queue.add('d')).toBe(false);
    await nextTurn();
    expect(started).toEqual(['a', 'b']);
    expect(queue.waitingJobs).toEqual(['c']);
    queue.finished();
    expect(started).toEqual(['a', 'b', 'c']);
    expect(queue.hasRoom).toBe(true);
  });

  it('lets a waiting job leave the queue', async () => {
    const started: string[] = [];
    const queue = new BuildQueue<string>(1, 2, (job) => started.push(job));
    queue.add('a');
    queue.add('b');
    await nextTurn();
    expect(queue.remove('b')).toBe(true);
    expect(queue.remove('a')).toBe(false); // already started
    queue.finished();
    expect(started).toEqual(['a']);
  });
});
