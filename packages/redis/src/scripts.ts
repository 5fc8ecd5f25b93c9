/**
 * Key names and the Lua scripts that keep the shared history honest. Each script runs atomically
 * in Redis, so checking the epoch and taking the next sequence number cannot interleave with
 * another node's append.
 *
 * Layout: a hash `meta` {epoch, seq, line} (`seq` is the high-water mark: the newest sequence
 * number ever assigned in `epoch`; `line`: see SYNC) and a stream `log` whose entry ids are
 * `<seq>-0`, each entry carrying its epoch (`p`), topic (`t`), event (`e`) and data (`d`).
 */

/**
 * Names of the keys under `prefix`; `{h}` is the Redis Cluster hash tag (the history keys share a
 * slot). `rewind` marks a new epoch started on a client's cursor (see `clientRewindIntervalMs`).
 */
export function historyKeys(prefix: string): { meta: string; log: string; rewind: string } {
  return { meta: `${prefix}{h}:meta`, log: `${prefix}{h}:log`, rewind: `${prefix}{h}:rewind` };
}

/**
 * Shared prologue: reads (epoch, seq) and starts a new epoch — emptying the log — when the history
 * may have gone backwards:
 * - no epoch: the data was lost (flush, restart without persistence) or this is the first start;
 * - an epoch whose log is gone although it assigned sequence numbers: the log was lost or evicted;
 * - the caller's known epoch with a seq below what the caller already saw: restored from an older
 *   snapshot, or a failover to a lagging replica. The sequence numbers above the head were given
 *   to messages that are gone; reusing them would let a cursor skip new messages silently;
 * - an epoch the caller saw replaced: a restore from before an earlier epoch change;
 * - a promoted replica: `line` (the replication id of the Redis that last wrote the history) is
 *   this Redis's previous replication id (`master_replid2`), so it was a replica of that writer and
 *   may have lagged. Its seq can be behind what clients saw while no node remembers it (they all
 *   restarted), and reusing those numbers would lose messages silently once the head passed the
 *   clients' cursors, so any promotion starts a new epoch. A restart (new replication id, no
 *   `master_replid2`) keeps the epoch: `line` is only brought up to date.
 * INFO may be unavailable (renamed by a managed service): the check is then skipped.
 * ARGV[1] known epoch ("" if none), ARGV[2] known seq, ARGV[3] the epoch to start if needed,
 * ARGV[4] retired epochs as ",a,b," ("," if none).
 */
const SYNC = `
local m = redis.call('HMGET', KEYS[1], 'epoch', 'seq', 'line')
local epoch, seq, changed = m[1], tonumber(m[2] or '0'), 0
local info, line, promoted = redis.pcall('INFO', 'replication'), '', false
if type(info) == 'string' then
  line = string.match(info, 'master_replid:(%w+)') or ''
  promoted = m[3] and m[3] ~= line and string.match(info, 'master_replid2:(%w+)') == m[3]
end
if (not epoch) or promoted or (seq > 0 and redis.call('EXISTS', KEYS[2]) == 0) or (epoch == ARGV[1] and seq < tonumber(ARGV[2]))
  or string.find(ARGV[4], ',' .. epoch .. ',', 1, true) then
  epoch, seq, changed = ARGV[3], 0, 1
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'epoch', epoch, 'seq', 0)
end
if line ~= '' and m[3] ~= line then redis.call('HSET', KEYS[1], 'line', line) end
`;

/** → {epoch, seq, changed}. */
export const HEAD_LUA = `${SYNC}
return {epoch, seq, changed}`;

/**
 * Appends after the prologue. ARGV[5] history length (MAXLEN ~), ARGV[6] topic, ARGV[7] event,
 * ARGV[8] data. → {epoch, seq, changed}.
 */
export const APPEND_LUA = `${SYNC}
seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], string.format('%d-0', seq), 'p', epoch, 't', ARGV[6], 'e', ARGV[7], 'd', ARGV[8])
return {epoch, seq, changed}`;

/**
 * Reads for a resume, changing nothing. ARGV[1] cursor epoch, ARGV[2] cursor seq, ARGV[3] count.
 * → {} when the history needs the prologue (lost), {epoch, seq} when the cursor is ahead of the
 * head, else {epoch, seq, first retained seq (0: none), from, entries} where `from` is the seq the
 * read starts after: the cursor when covered, else the last seq before the retained history.
 */
export const READ_LUA = `
local m = redis.call('HMGET', KEYS[1], 'epoch', 'seq')
local epoch, seq = m[1], tonumber(m[2] or '0')
if not epoch then return {} end
local oldest = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)
if seq > 0 and #oldest == 0 then return {} end
local cursor = tonumber(ARGV[2])
if epoch == ARGV[1] and cursor > seq then return {epoch, seq} end
local first = 0
if #oldest > 0 then first = tonumber(string.match(oldest[1][1], '^(%d+)')) end
local from = cursor
if epoch ~= ARGV[1] then from = 0 end
if first > 0 and from < first - 1 then from = first - 1 end
local entries = redis.call('XRANGE', KEYS[2], string.format('(%d-0', from), '+', 'COUNT', ARGV[3])
return {epoch, seq, first, from, entries}`;

/** Redis's clock in ms (nodes' clocks need not agree). */
const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/**
 * Leased slots, all or none. KEYS: one sorted set per key (member: holder, score: lease end in ms);
 * ARGV[1] holder, ARGV[2] lease ms, ARGV[2 + i] limit of KEYS[i]. Expired leases are dropped first
 * (a dead node's holders). → -1 taken, else the 0-based index of the first key at its limit.
 */
export const ACQUIRE_LUA = `${NOW}
local holder, lease = ARGV[1], tonumber(ARGV[2])
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  if not redis.call('ZSCORE', key, holder) and redis.call('ZCARD', key) >= tonumber(ARGV[2 + i]) then return i - 1 end
end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, now + lease, holder)
  if redis.call('PTTL', key) < lease then redis.call('PEXPIRE', key, lease) end
end
return -1`;

/**
 * Renews (or writes again, after Redis lost them) a node's leases without checking limits.
 * KEYS[i] sorted set, ARGV[1] lease ms, ARGV[1 + i] holder on KEYS[i]. → number renewed.
 */
export const RENEW_LUA = `${NOW}
local lease = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now + lease, ARGV[1 + i])
  if redis.call('PTTL', key) < lease then redis.call('PEXPIRE', key, lease) end
end
return #KEYS`;

/** Fixed-window counter on Redis's clock. KEYS[1] key base; ARGV[1] window ms. → count. */
export const HIT_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local key = KEYS[1] .. ':' .. math.floor(now / window)
local n = redis.call('INCR', key)
if n == 1 then redis.call('PEXPIRE', key, window) end
return n`;
