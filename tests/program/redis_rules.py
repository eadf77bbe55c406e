"""Redis/Valkey rules the queue store is held to, emulated from their sources.

- ACL evaluation (Redis ACL documentation, "ACL rules": rules apply left to right; `+@cat` /
  `-@cat` add or remove a category's commands, `+cmd` / `+cmd|sub` one command).
- The ACL categories of the commands the clients send, as valkey files them in
  src/commands/<command>.json (`acl_categories`, plus the implied @fast/@slow and the flags'
  categories: @write for WRITE, @read for READONLY, ...).
- The cluster key slot (Redis Cluster specification, "Key distribution model": CRC16-XMODEM of
  the key, or of the hash tag between the first `{` and the next `}`, modulo 16384).
"""

from __future__ import annotations

# command -> its ACL categories (valkey src/commands/*.json); subcommands as "cmd|sub". Read from
# the files: info.json ["DANGEROUS", "SLOW"], cluster-slots.json ["SLOW"].
COMMAND_CATEGORIES: dict[str, set[str]] = {
    "info": {"slow", "dangerous"},
    "auth": {"fast", "connection"},
    "hello": {"fast", "connection"},
    "ping": {"fast", "connection"},
    "client|setname": {"slow", "connection"},
    "client|getname": {"slow", "connection"},
    "cluster|slots": {"slow"},
    "cluster|shards": {"slow"},
    "readonly": {"fast", "connection"},
    "eval": {"slow", "scripting"},
    "evalsha": {"slow", "scripting"},
    "script|load": {"slow", "scripting"},
    "rpush": {"write", "list", "fast"},
    "lpop": {"write", "list", "fast"},
    "llen": {"read", "list", "fast"},
    "zadd": {"write", "sortedset", "fast"},
    "zrangebyscore": {"read", "sortedset", "slow"},
    "blmove": {"write", "list", "slow", "blocking"},
    "bzpopmin": {"write", "sortedset", "fast", "blocking"},
    "hset": {"write", "hash", "fast"},
    "hgetall": {"read", "hash", "slow"},
    "xadd": {"write", "stream", "fast"},
    "xread": {"read", "stream", "slow", "blocking"},
    "del": {"keyspace", "write", "slow"},
    "exists": {"keyspace", "read", "fast"},
    "flushall": {"keyspace", "write", "slow", "dangerous"},
    "config|set": {"admin", "slow", "dangerous"},
    "keys": {"keyspace", "read", "slow", "dangerous"},
}

# What each client sends: on connect (version check, name, topology) and for queue work.
# BullMQ (src/classes/redis-connection.ts: INFO for the version check; ioredis Cluster: CLUSTER
# SLOTS; Lua scripts by EVALSHA); phpredis RedisCluster (CLUSTER SLOTS, AUTH) and Laravel's
# RedisQueue (Lua scripts, RPUSH, ZADD, ...; `php artisan queue:monitor`/about: INFO).
CLIENT_COMMANDS: dict[str, tuple[str, ...]] = {
    "bullmq": ("auth", "hello", "info", "client|setname", "cluster|slots", "readonly", "evalsha",
               "eval", "script|load", "bzpopmin", "blmove", "hgetall", "hset", "xadd", "xread",
               "exists", "del"),
    "laravel-phpredis": ("auth", "ping", "info", "cluster|slots", "eval", "evalsha", "rpush",
                         "lpop", "llen", "zadd", "zrangebyscore", "del"),
}


def acl_allows(access_string: str, command: str) -> bool:
    """Whether a user with this access string may run `command` (rules applied left to right)."""
    categories = COMMAND_CATEGORIES[command]
    parent = command.split("|", 1)[0]
    allowed = False
    for rule in access_string.split():
        if rule[0] not in "+-":
            continue  # on/off, key and channel patterns
        grant, target = rule[0] == "+", rule[1:]
        if target.startswith("@"):
            hit = target == "@all" or target[1:] in categories
        else:
            hit = target in (command, parent)
        if hit:
            allowed = grant
    return allowed


def _crc16_xmodem(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


def key_slot(key: str) -> int:
    """The cluster slot of a key: the hash tag's, if the key has a non-empty one."""
    start = key.find("{")
    if start != -1:
        end = key.find("}", start + 1)
        if end > start + 1:
            key = key[start + 1:end]
    return _crc16_xmodem(key.encode()) % 16384
