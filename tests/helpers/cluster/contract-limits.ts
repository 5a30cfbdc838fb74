/**
 * The bounds API.md ("Several processes and machines", "Process") puts on a cluster; the only
 * times these tests assert. Everything else waits without judging speed.
 */

/** A lost worker's builds end `interrupted` at most WORKER_LOST_MS + this later. */
export const LOST_WORKER_SLACK_MS = 5000;

/** A process stopped with SIGTERM has exited 0 within this. */
export const SHUTDOWN_LIMIT_MS = 10000;

/** A Redis that does not answer for up to this long loses nothing (and is no outage yet). */
export const REDIS_STALL_TOLERATED_MS = 10000;

/** At most this long after Redis stops answering, /healthz and refused requests say 503 ... */
export const UNAVAILABLE_WITHIN_MS = 15000;

/** ... and answer within this. */
export const UNAVAILABLE_ANSWER_MS = 1000;

/** A process that cannot reach Redis at start-up stops within this ... */
export const STARTUP_REDIS_LIMIT_MS = 10000;

/** ... measured from spawn, so the test allows Node this long to load and reach that point. */
export const NODE_STARTUP_ALLOWANCE_MS = 2000;

/** An event reaches the socket within 25 ms of being produced (Routes, GET /api/log/push). */
export const STREAM_BATCH_MS = 25;

/**
 * What the test itself may add when it times an event by when its reader parsed it: loopback
 * and its own event loop on a busy machine. Not the server's time.
 */
export const READER_ALLOWANCE_MS = 100;

/** A generous jest timeout for one cluster test: several processes on a slow, shared machine. */
export const CLUSTER_TEST_TIMEOUT_MS = 240000;
