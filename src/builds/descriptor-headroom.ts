import fs from 'node:fs';

/**
 * Descriptors a spawn must find free: its pipes (stdout, stderr, and the one that reports an
 * exec failure) take 6, and up to 4 more may be opened at the same moment by libuv's
 * threadpool (its default size), which runs file operations beside the main thread.
 */
export const SPAWN_DESCRIPTORS = 16;

/**
 * Whether `count` more file descriptors can be opened now: null if so, else the error code
 * (EMFILE: this process is at its limit; ENFILE: the whole system is). It opens and closes
 * them, so a spawn made right after finds them free.
 *
 * Why: under EMFILE, Node's spawn() returns before it sets up the child's stdio and emits
 * `error` on the next tick; execa 9 then throws on the missing stdio before it has attached
 * its `error` listener, so that event crashes the process. The spawn must not be tried.
 */
export function findDescriptorShortage(count: number = SPAWN_DESCRIPTORS): string | null {
  const opened: number[] = [];
  try {
    for (let i = 0; i < count; i += 1) opened.push(fs.openSync('/dev/null', 'r'));
    return null;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'EMFILE' || code === 'ENFILE' ? code : null; // no /dev/null: nothing learnt, let the spawn tell
  } finally {
    for (const fd of opened) fs.closeSync(fd);
  }
}
