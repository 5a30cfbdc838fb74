/**
 * Runs DOM work once per animation frame, however many events asked for it in between: a
 * stream can bring thousands of lines per frame, and each only marks what changed.
 */
const tasks = new Set();
let isRequested = false;

/** Runs `task` in the next animation frame, once however often it is asked for. */
export function onNextFrame(task) {
  tasks.add(task);
  if (isRequested) return;
  isRequested = true;
  requestAnimationFrame(runTasks);
}

function runTasks() {
  isRequested = false;
  const due = [...tasks];
  tasks.clear();
  for (const task of due) task();
}
