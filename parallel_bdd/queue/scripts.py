"""The queue's atomic steps, as Lua scripts run inside Redis: reserve, heartbeat, ack, give back.

Used only by ``redis_queue.RedisQueue``, which passes each script its ``ARGV`` and the keys
named in the tuple above its source (``BuildKeys.named``; all of one build, so of one
Cluster slot). That tuple is the one place the order of a script's ``KEYS`` is written:
the script's Lua starts with a local of the same name for each key, in that order.
They run through redis-py ``Script`` objects (``EVALSHA``, and ``SCRIPT LOAD`` again when
the server answers ``NOSCRIPT``, as it does after a restart).

Every time a script compares comes from ``redis.call('TIME')``, the server's clock, in
milliseconds: the machines' clocks may disagree, the server's is one. (Redis 5 and later
replicate a script's effects, not the script, so reading the clock is allowed.)

A reservation carries a lease number from an ``INCR``. Heartbeat, ack and give-back act
only while the entry's lease is still the caller's: a machine paused past the heartbeat
timeout whose entry another took over cannot touch it when it wakes up.

Imports only redis-py's ``Script`` type (for the annotations).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from redis import Redis
    from redis.commands.core import Script

# shared by every script: the server's time in ms, and a key's time to live renewed
_PRELUDE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
local function keep(...)
  for _, key in ipairs({...}) do redis.call('EXPIRE', key, ttl) end
end
"""


def _prelude(key_names: tuple[str, ...]) -> str:
    """The prelude, then ``local <name> = KEYS[i]`` for each of a script's keys."""
    bound = "".join(f"local {name} = KEYS[{i}]\n" for i, name in enumerate(key_names, 1))
    return _PRELUDE + bound


RESERVE_KEYS = tuple(
    "queue running leases owners entries results lease_counter done workers reclaimed".split()
)
# ARGV: worker, ttl, heartbeat timeout (ms)
# -> nil, or {entry id, lease, reclaimed from ("" if fresh), scenario id, ...}: only the
#    entry's scenarios that still have no final result
RESERVE = (
    _prelude(RESERVE_KEYS)
    + """
local worker, timeout = ARGV[1], tonumber(ARGV[3])
redis.call('HSET', workers, worker, now)
keep(workers)
while true do
  -- a lost machine's entry first: it was handed out before anything still queued
  local id = redis.call('ZRANGEBYSCORE', running, '-inf', now - timeout, 'LIMIT', 0, 1)[1]
  local from = ''
  if id then
    from = redis.call('HGET', owners, id) or '?'
  else
    id = redis.call('LPOP', queue)
    if not id then return nil end
  end
  local left = {}
  local raw = redis.call('HGET', entries, id)
  if raw and redis.call('SISMEMBER', done, id) == 0 then
    for _, scenario in ipairs(cjson.decode(raw)) do
      if redis.call('HEXISTS', results, scenario) == 0 then table.insert(left, scenario) end
    end
  end
  if #left > 0 then
    local lease = redis.call('INCR', lease_counter)
    redis.call('ZADD', running, now, id)
    redis.call('HSET', leases, id, lease)
    redis.call('HSET', owners, id, worker)
    if from ~= '' then
      redis.call('RPUSH', reclaimed, id .. ' ' .. from .. ' ' .. worker)
      keep(reclaimed)
    end
    keep(running, leases, owners, lease_counter)
    local reply = {id, lease, from}
    for _, scenario in ipairs(left) do table.insert(reply, scenario) end
    return reply
  end
  -- nothing of it left to run: it is done, whatever brought it back
  redis.call('SADD', done, id)
  redis.call('ZREM', running, id)
  redis.call('HDEL', leases, id)
  redis.call('HDEL', owners, id)
  keep(done)
end
"""
)

HEARTBEAT_KEYS = tuple("running leases workers".split())
# ARGV: worker, ttl, then entry id and lease pairs -> the entry ids whose lease is lost
HEARTBEAT = (
    _prelude(HEARTBEAT_KEYS)
    + """
redis.call('HSET', workers, ARGV[1], now)
keep(workers)
local lost = {}
for i = 3, #ARGV, 2 do
  if redis.call('HGET', leases, ARGV[i]) == ARGV[i + 1] then
    redis.call('ZADD', running, 'XX', now, ARGV[i])
  else
    table.insert(lost, ARGV[i])
  end
end
return lost
"""
)

ACK_KEYS = tuple(
    "leases running owners done results attempts attempt_counts failures flaky entries "
    "workers finished meta".split()
)
# ARGV: worker, ttl, entry id, lease, scenario id, result JSON, final, passed, failed
#       (the last three "1" or "0")
# -> 0 ignored (lease lost, or another final result came first), 1 recorded,
#    2 recorded and the entry is done (every scenario of it has its final result)
ACK = (
    _prelude(ACK_KEYS)
    + """
local id, lease, scenario, result = ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local final, passed, failed = ARGV[7] == '1', ARGV[8] == '1', ARGV[9] == '1'
local recorded = redis.call('HGET', results, scenario)
if recorded then
  -- the same ack again (a reply lost on the way back) is no conflict
  if recorded == result then return 1 end
  return 0
end
if redis.call('HGET', leases, id) ~= lease then return 0 end
local ids = cjson.decode(redis.call('HGET', entries, id) or '[]')
local ours = false
for _, each in ipairs(ids) do if each == scenario then ours = true end end
if not ours then return redis.error_reply('scenario ' .. scenario .. ' is not in entry ' .. id) end
redis.call('HSET', workers, ARGV[1], now)
local n = redis.call('HINCRBY', attempt_counts, scenario, 1)
redis.call('HSET', attempts, scenario .. '\\n' .. n, result)
keep(workers, attempt_counts, attempts)
if not final then
  if failed then redis.call('SADD', failures, scenario); keep(failures) end
  return 1
end
redis.call('HSET', results, scenario, result)
keep(results)
if passed and redis.call('SISMEMBER', failures, scenario) == 1 then
  redis.call('SADD', flaky, scenario)
  keep(flaky)
end
for _, each in ipairs(ids) do
  if redis.call('HEXISTS', results, each) == 0 then return 1 end
end
redis.call('SADD', done, id)
redis.call('ZREM', running, id)
redis.call('HDEL', leases, id)
redis.call('HDEL', owners, id)
keep(done)
if redis.call('HLEN', results) >= tonumber(redis.call('HGET', meta, 'scenarios') or '0') then
  redis.call('SET', finished, now, 'EX', ttl)
end
return 2
"""
)

GIVE_BACK_KEYS = tuple("leases running owners queue".split())
# ARGV: "front" or "back", ttl, then entry id and lease pairs -> how many were given back
# (pairs for the front come last first, so that they end up in their original order)
GIVE_BACK = (
    _prelude(GIVE_BACK_KEYS)
    + """
local given = 0
for i = 3, #ARGV, 2 do
  local id = ARGV[i]
  if redis.call('HGET', leases, id) == ARGV[i + 1] then
    redis.call('ZREM', running, id)
    redis.call('HDEL', leases, id)
    redis.call('HDEL', owners, id)
    if ARGV[1] == 'front' then
      redis.call('LPUSH', queue, id)
    else
      redis.call('RPUSH', queue, id)
    end
    given = given + 1
  end
end
keep(queue)
return given
"""
)


@dataclass(frozen=True)
class QueueScripts:
    """The four scripts registered on one client (``Script`` objects: each call is an
    ``EVALSHA`` that loads the script again after a server restart)."""

    reserve: Script
    heartbeat: Script
    ack: Script
    give_back: Script

    @classmethod
    def register(cls, client: Redis) -> QueueScripts:
        """Called once by ``RedisQueue.__init__``; sends nothing to the server yet."""
        return cls(
            reserve=client.register_script(RESERVE),
            heartbeat=client.register_script(HEARTBEAT),
            ack=client.register_script(ACK),
            give_back=client.register_script(GIVE_BACK),
        )
