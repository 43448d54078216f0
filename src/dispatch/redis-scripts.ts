/** The Lua scripts of Redis dispatch (redis.ts), each one atomic step on its keys. */

export const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
// ownership and the record that counts the job, in one step (KEYS: owner, workers; ARGV: id, ttl, record)
export const CLAIM = `if redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then redis.call('hset', KEYS[2], ARGV[1], ARGV[3]) return 1 else return 0 end`;
// Both scripts below start so: KEYS[1] epoch, KEYS[2] settling, ARGV[1] the owner TTL. The
// first write after Redis lost its keys starts the epoch, and one TTL of settling with it.
const EPOCH = `if redis.call('set', KEYS[1], '1', 'NX') then redis.call('set', KEYS[2], '1', 'PX', ARGV[1]) end`;
// The heartbeat: the worker's record, and every claim of its recordings renewed, or written
// again when Redis lost it; one that another worker holds is left alone.
// KEYS[3] workers, KEYS[4..] owner keys; ARGV[2] worker id, ARGV[3] its record
export const BEAT = `${EPOCH}
redis.call('hset', KEYS[3], ARGV[2], ARGV[3])
for i = 4, #KEYS do
  local v = redis.call('get', KEYS[i])
  if not v or v == ARGV[2] then redis.call('set', KEYS[i], ARGV[2], 'PX', ARGV[1]) end
end
return 1`;
// How long the owner of KEYS[3] still counts as alive (ms; 0: dead): what its claim has left,
// else what is left of the settling (a missing claim then proves nothing).
export const OWNER_LEASE = `local left = redis.call('pttl', KEYS[3])
if left == -1 then return tonumber(ARGV[1]) end
if left > 0 then return left end
${EPOCH}
local settling = redis.call('pttl', KEYS[2])
if settling > 0 then return settling end
return 0`;
