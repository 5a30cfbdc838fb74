import type { Redis } from 'ioredis';

/**
 * The cluster's atomic steps, each one Lua script, so that what must hold together holds:
 * an event gets its place in the one order and in its build's history in the same step, and
 * a write to a build happens only while the writer holds the build's lease (fencing: a worker
 * declared lost can never write to its builds again).
 *
 * A build's `lease` is `queued` until a worker takes it, then that worker's random token,
 * then `done` or `lost` once its `end` is written. Every write names the lease it expects, and
 * a build whose lease is `done` or `lost` takes no write at all.
 */

/** Appends events (name, frame body pairs from ARGV[first]) to a build: id, history, stream. */
const APPEND_EVENTS = `
local function epochOf(epochKey, candidate)
  local epoch = redis.call('GET', epochKey)
  if not epoch then
    redis.call('SET', epochKey, candidate)
    epoch = candidate
  end
  return epoch
end
local function appendEvents(buildKey, framesKey, seqKey, eventsKey, buildId, epoch, maxLen, first)
  for i = first, #ARGV, 2 do
    local g = redis.call('INCR', seqKey)
    local n = redis.call('HINCRBY', buildKey, 'n', 1)
    local frame = 'id: ' .. epoch .. '-' .. g .. '-' .. n .. '\\n' .. ARGV[i + 1]
    redis.call('RPUSH', framesKey, frame)
    redis.call('XADD', eventsKey, 'MAXLEN', '~', maxLen, g .. '-0', 'b', buildId, 'n', n, 'e', ARGV[i], 'f', frame)
  end
end
`;

/**
 * POST: KEYS idempotency, project, queued, builds, build, frames, seq, events, epoch, free slots.
 * ARGV id, createdAtMs, record, maxQueued, epoch candidate, maxLen, idempotency ttl s,
 * has key (1/0), build key prefix, then the `build` event (name, body).
 */
const ADMIT = `${APPEND_EVENTS}
-- Sent again after a dropped connection (ioredis resends what got no answer): already admitted.
if redis.call('EXISTS', KEYS[5]) == 1 then return {'created'} end
if ARGV[8] == '1' then
  local existing = redis.call('GET', KEYS[1])
  if existing then
    local record = redis.call('HGET', ARGV[9] .. existing, 'record')
    if record then return {'existing', record} end
  end
end
local holder = redis.call('GET', KEYS[2])
if holder then
  local record = redis.call('HGET', ARGV[9] .. holder, 'record')
  if record then return {'busy', record} end
end
local free = 0
for _, slots in ipairs(redis.call('HVALS', KEYS[10])) do free = free + tonumber(slots) end
if redis.call('SCARD', KEYS[3]) >= tonumber(ARGV[4]) + free then return {'full'} end
redis.call('SET', KEYS[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[2], ARGV[1])
redis.call('HSET', KEYS[5], 'record', ARGV[3], 'lease', 'queued', 'n', 0, 'bseq', 0)
if ARGV[8] == '1' then redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[7]) end
appendEvents(KEYS[5], KEYS[6], KEYS[7], KEYS[8], ARGV[1], epochOf(KEYS[9], ARGV[5]), ARGV[6], 10)
return {'created'}
`;

/** A worker takes a queued build. KEYS build, queued, running. ARGV id, token, worker. */
const CLAIM = `
local lease = redis.call('HGET', KEYS[1], 'lease')
if not lease then return {'gone'} end
if lease == ARGV[2] then return {'claimed', redis.call('HGET', KEYS[1], 'record')} end
if lease ~= 'queued' then return {'taken', lease} end
redis.call('HSET', KEYS[1], 'lease', ARGV[2], 'bseq', 0, 'worker', ARGV[3])
redis.call('SREM', KEYS[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[1])
return {'claimed', redis.call('HGET', KEYS[1], 'record')}
`;

/**
 * A write to a build by its lease holder. KEYS build, frames, seq, events, epoch, project,
 * running, queued. ARGV id, expected lease, new lease ('' keeps it), batch number (0: none),
 * record ('' keeps it), 'end' when this write ends the build, epoch candidate, maxLen, then
 * events (name, body). A batch number at or below the last applied one is a retry of a write
 * that was applied and whose answer was lost: it is not applied twice.
 */
const COMMIT = `${APPEND_EVENTS}
if redis.call('EXISTS', KEYS[1]) == 0 then return 'gone' end
local batch = tonumber(ARGV[4])
if batch > 0 and batch <= tonumber(redis.call('HGET', KEYS[1], 'bseq') or '0') then return 'dup' end
local lease = redis.call('HGET', KEYS[1], 'lease')
-- An ended lease fences every writer, one that read the build after its end included.
if lease ~= ARGV[2] or lease == 'done' or lease == 'lost' then return 'fenced' end
if batch > 0 then redis.call('HSET', KEYS[1], 'bseq', batch) end
appendEvents(KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[1], epochOf(KEYS[5], ARGV[7]), ARGV[8], 9)
if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'record', ARGV[5]) end
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'lease', ARGV[3]) end
if ARGV[6] == 'end' then
  if redis.call('GET', KEYS[6]) == ARGV[1] then redis.call('DEL', KEYS[6]) end
  redis.call('SREM', KEYS[7], ARGV[1])
  redis.call('SREM', KEYS[8], ARGV[1])
end
return 'ok'
`;

export type AdmitReply = ['existing' | 'busy', string] | ['full'] | ['created'];
export type ClaimReply = ['gone'] | ['taken', string] | ['claimed', string];
export type CommitReply = 'ok' | 'dup' | 'fenced' | 'gone';

/** The scripts as commands of a client (EVALSHA, loaded again by ioredis when Redis forgot them). */
export interface ClusterCommands {
  buildlogAdmit(...args: string[]): Promise<AdmitReply>;
  buildlogClaim(...args: string[]): Promise<ClaimReply>;
  buildlogCommit(...args: string[]): Promise<CommitReply>;
}

export function defineClusterCommands(redis: Redis): Redis & ClusterCommands {
  redis.defineCommand('buildlogAdmit', { numberOfKeys: 10, lua: ADMIT });
  redis.defineCommand('buildlogClaim', { numberOfKeys: 3, lua: CLAIM });
  redis.defineCommand('buildlogCommit', { numberOfKeys: 8, lua: COMMIT });
  return redis as Redis & ClusterCommands;
}
