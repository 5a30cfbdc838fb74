// Bench-only preload for every server under test (node --expose-gc --import <this file>):
// on SIGUSR2 it collects garbage and reports memory on stderr as one line
//   @@bench-mem {"heapUsed":...,"rss":...}
// so heap per connection is measured after GC without any change to the server's code.
// It also stops the server if the bench that started it is gone, so none is left behind.
import fs from 'node:fs';

const MARK = '@@bench-mem ';
const parentPid = process.ppid;

process.on('SIGUSR2', () => {
  if (typeof globalThis.gc === 'function') {
    globalThis.gc();
    globalThis.gc();
  }
  const { heapUsed, heapTotal, external, arrayBuffers, rss } = process.memoryUsage();
  // Written synchronously: the reply must not wait behind a busy event loop's queued writes.
  fs.writeSync(2, `\n${MARK}${JSON.stringify({ heapUsed, heapTotal, external, arrayBuffers, rss, hasGc: typeof globalThis.gc === 'function' })}\n`);
});

setInterval(() => {
  if (process.ppid === parentPid) return;
  process.kill(process.pid, 'SIGTERM');
  setTimeout(() => process.kill(process.pid, 'SIGKILL'), 15000).unref();
}, 1000).unref();
