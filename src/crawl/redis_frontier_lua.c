/* The Lua scripts of the Redis frontier (redis_frontier.c loads them with SCRIPT LOAD and
 * runs them with EVALSHA). Each script is one atomic step of the crawl on the server, so
 * no two processes ever see a half-done change. Every script gets the key prefix P
 * ("acio-crawl:{name}:", the braces keep a crawl's keys in one cluster slot) as ARGV[1]
 * and P.."cfg" as its only declared key; it derives the other names from P:
 *
 *   P.."cfg"     HASH  crawl-wide settings: format, bits, limit, delay, lease
 *   P.."s:"..b   SET   seen fingerprints of bucket b (0 .. 2^bits-1), as signed 64-bit
 *                      decimal integers: Redis keeps a set of integers as an intset,
 *                      8 bytes each, while it has at most set-max-intset-entries (512)
 *   P.."q:"..h   LIST  host h's queue of entries "depth hops attempts url"
 *   P.."hosts"   SET   the hosts ever queued
 *   P.."ready"   ZSET  hosts that may give a URL: h is in it iff its queue is not empty
 *                      and it has fewer than `limit` leases; score: the time (server
 *                      microseconds) from which it may be taken
 *   P.."next"    HASH  host -> earliest time of its next take (politeness, retry hold)
 *   P.."delay"   HASH  host -> its own delay in microseconds (Crawl-delay)
 *   P.."leased"  HASH  host -> leases held now
 *   P.."lease"   ZSET  lease token -> deadline (server microseconds)
 *   P.."leases"  HASH  lease token -> "host<TAB>entry"
 *   P.."seq"     STRING the last lease token
 *   P.."stats"   HASH  counters: seen, queued, done, retried, reclaimed, and the tool's
 *
 * Times come from the server's TIME (allowed in scripts since Redis 5: scripts are
 * replicated by their effects), so every process shares one clock. */
#include "crawl/redis_frontier_lua.h"

/* Helpers shared by every script (prepended to each). ready_update(h, now, limit, force)
 * keeps the invariant of P.."ready" for host h; with force it sets the score even if the
 * host is already there (after a take or a retry changed its next time), otherwise a
 * host already waiting keeps its place in the round robin. release(h) ends one of h's
 * leases. unlease(tok) ends a lease and returns its host and entry, or nil when it is
 * not (or no longer) held. */
#define PRELUDE                                                                                    \
    "local P = ARGV[1]\n"                                                                          \
    "local function num(v) return tonumber(v) or 0 end\n"                                          \
    "local function fmt(x) return string.format('%.0f', x) end\n"                                  \
    "local function now_us()\n"                                                                    \
    "  local t = redis.call('TIME')\n"                                                             \
    "  return tonumber(t[1]) * 1000000 + tonumber(t[2])\n"                                         \
    "end\n"                                                                                        \
    "local function ready_update(h, now, limit, force)\n"                                          \
    "  if redis.call('LLEN', P .. 'q:' .. h) > 0 and\n"                                            \
    "     num(redis.call('HGET', P .. 'leased', h)) < limit then\n"                                \
    "    local nx = num(redis.call('HGET', P .. 'next', h))\n"                                     \
    "    if nx < now then nx = now end\n"                                                          \
    "    if force then redis.call('ZADD', P .. 'ready', fmt(nx), h)\n"                             \
    "    else redis.call('ZADD', P .. 'ready', 'NX', fmt(nx), h) end\n"                            \
    "  else\n"                                                                                     \
    "    redis.call('ZREM', P .. 'ready', h)\n"                                                    \
    "  end\n"                                                                                      \
    "end\n"                                                                                        \
    "local function release(h)\n"                                                                  \
    "  if redis.call('HINCRBY', P .. 'leased', h, -1) <= 0 then\n"                                 \
    "    redis.call('HDEL', P .. 'leased', h)\n"                                                   \
    "  end\n"                                                                                      \
    "end\n"                                                                                        \
    "local function unlease(tok)\n"                                                                \
    "  local v = redis.call('HGET', P .. 'leases', tok)\n"                                         \
    "  redis.call('ZREM', P .. 'lease', tok)\n"                                                    \
    "  if not v then return nil end\n"                                                             \
    "  redis.call('HDEL', P .. 'leases', tok)\n"                                                   \
    "  local tab = string.find(v, '\\t', 1, true)\n"                                               \
    "  local h = string.sub(v, 1, tab - 1)\n"                                                      \
    "  release(h)\n"                                                                               \
    "  return h, string.sub(v, tab + 1)\n"                                                         \
    "end\n"                                                                                        \
    "local function counters()\n"                                                                  \
    "  local s = redis.call('HMGET', P .. 'stats', 'queued', 'seen', 'done')\n"                    \
    "  return num(s[1]), num(s[2]), num(s[3]), redis.call('SCARD', P .. 'hosts'),\n"               \
    "         redis.call('ZCARD', P .. 'lease')\n"                                                 \
    "end\n"

/* ARGV: P, format, bits, limit, delay_us, lease_us. The first process's settings stay;
 * returns the stored ones. */
static const char lua_init[] =
    PRELUDE "local k = P .. 'cfg'\n"
            "local t = redis.call('TYPE', k)['ok']\n"
            "if t ~= 'none' and t ~= 'hash' then\n"
            "  return redis.error_reply('WRONGTYPE ' .. k .. ' is not an acio-crawl config')\n"
            "end\n"
            "redis.call('HSETNX', k, 'format', ARGV[2])\n"
            "redis.call('HSETNX', k, 'bits', ARGV[3])\n"
            "redis.call('HSETNX', k, 'limit', ARGV[4])\n"
            "redis.call('HSETNX', k, 'delay', ARGV[5])\n"
            "redis.call('HSETNX', k, 'lease', ARGV[6])\n"
            "return redis.call('HMGET', k, 'format', 'bits', 'limit', 'delay', 'lease')\n";

/* ARGV: P, limit, bucket, fingerprint, host, entry, done_only. Returns 1 (new) or 0. */
static const char lua_add[] =
    PRELUDE "if redis.call('SADD', P .. 's:' .. ARGV[3], ARGV[4]) == 0 then return 0 end\n"
            "redis.call('HINCRBY', P .. 'stats', 'seen', 1)\n"
            "if ARGV[7] == '1' then\n"
            "  redis.call('HINCRBY', P .. 'stats', 'done', 1)\n"
            "  return 1\n"
            "end\n"
            "local h = ARGV[5]\n"
            "redis.call('SADD', P .. 'hosts', h)\n"
            "redis.call('RPUSH', P .. 'q:' .. h, ARGV[6])\n"
            "redis.call('HINCRBY', P .. 'stats', 'queued', 1)\n"
            "ready_update(h, now_us(), tonumber(ARGV[2]), false)\n"
            "return 1\n";

/* ARGV: P, limit, default_delay_us, lease_us, reclaim_max.
 * Returns {1, token, host, entry, queued, seen, done, hosts, leases} or
 * {0, wait_us (-1: nothing ready), first_lease_in_us (-1: none), queued, seen, done,
 *  hosts, leases}. */
static const char lua_take[] =
    PRELUDE "local limit, ddelay = tonumber(ARGV[2]), tonumber(ARGV[3])\n"
            "local lease, rmax = tonumber(ARGV[4]), tonumber(ARGV[5])\n"
            "local now = now_us()\n"
            /* Reclaim expired leases: their holders died (or stalled past the lease). */
            "local old = redis.call('ZRANGEBYSCORE', P .. 'lease', '-inf', fmt(now),\n"
            "                       'LIMIT', 0, rmax)\n"
            "for _, tok in ipairs(old) do\n"
            "  local h, e = unlease(tok)\n"
            "  if h then\n"
            "    redis.call('LPUSH', P .. 'q:' .. h, e)\n"
            "    redis.call('HINCRBY', P .. 'stats', 'queued', 1)\n"
            "    redis.call('HINCRBY', P .. 'stats', 'reclaimed', 1)\n"
            "    ready_update(h, now, limit, false)\n"
            "  end\n"
            "end\n"
            "while true do\n"
            "  local pick = redis.call('ZRANGEBYSCORE', P .. 'ready', '-inf', fmt(now),\n"
            "                          'LIMIT', 0, 1)\n"
            "  if #pick == 0 then break end\n"
            "  local h = pick[1]\n"
            "  local e = redis.call('LPOP', P .. 'q:' .. h)\n"
            "  if e then\n"
            "    local tok = redis.call('INCR', P .. 'seq')\n"
            "    redis.call('HSET', P .. 'leases', tok, h .. '\\t' .. e)\n"
            "    redis.call('ZADD', P .. 'lease', fmt(now + lease), tok)\n"
            "    redis.call('HINCRBY', P .. 'leased', h, 1)\n"
            "    redis.call('HINCRBY', P .. 'stats', 'queued', -1)\n"
            "    local d = num(redis.call('HGET', P .. 'delay', h))\n"
            "    if d < ddelay then d = ddelay end\n"
            "    redis.call('HSET', P .. 'next', h, fmt(now + d))\n"
            "    ready_update(h, now, limit, true)\n"
            "    local q, s, dn, nh, nl = counters()\n"
            "    return {1, tok, h, e, q, s, dn, nh, nl}\n"
            "  end\n"
            /* An empty queue must not stay ready (cannot happen while the invariant
             * holds; repairs keys edited by hand). */
            "  redis.call('ZREM', P .. 'ready', h)\n"
            "end\n"
            "local wait, lwait = -1, -1\n"
            "local r = redis.call('ZRANGE', P .. 'ready', 0, 0, 'WITHSCORES')\n"
            "if #r > 0 then wait = tonumber(r[2]) - now end\n"
            "local l = redis.call('ZRANGE', P .. 'lease', 0, 0, 'WITHSCORES')\n"
            "if #l > 0 then lwait = tonumber(l[2]) - now end\n"
            "local q, s, dn, nh, nl = counters()\n"
            "return {0, wait, lwait, q, s, dn, nh, nl}\n";

/* ARGV: P, limit, token. Returns 1, or 0 when the lease is not held any more. */
static const char lua_done[] = PRELUDE "local h = unlease(ARGV[3])\n"
                                       "if not h then return 0 end\n"
                                       "redis.call('HINCRBY', P .. 'stats', 'done', 1)\n"
                                       "ready_update(h, now_us(), tonumber(ARGV[2]), false)\n"
                                       "return 1\n";

/* ARGV: P, limit, token, entry (with its attempts already counted), hold_us. Returns as
 * done. */
static const char lua_retry[] = PRELUDE "local h = unlease(ARGV[3])\n"
                                        "if not h then return 0 end\n"
                                        "redis.call('LPUSH', P .. 'q:' .. h, ARGV[4])\n"
                                        "redis.call('HINCRBY', P .. 'stats', 'queued', 1)\n"
                                        "redis.call('HINCRBY', P .. 'stats', 'retried', 1)\n"
                                        "local now = now_us()\n"
                                        "local nb = now + tonumber(ARGV[5])\n"
                                        "if nb > num(redis.call('HGET', P .. 'next', h)) then\n"
                                        "  redis.call('HSET', P .. 'next', h, fmt(nb))\n"
                                        "end\n"
                                        "ready_update(h, now, tonumber(ARGV[2]), true)\n"
                                        "return 1\n";

/* ARGV: P, lease_us, token... Extends the leases still held; returns how many were not
 * (reclaimed meanwhile). */
static const char lua_renew[] =
    PRELUDE "local dl = fmt(now_us() + tonumber(ARGV[2]))\n"
            "local lost = 0\n"
            "for i = 3, #ARGV do\n"
            "  if redis.call('ZADD', P .. 'lease', 'XX', 'CH', dl, ARGV[i]) == 0 and\n"
            "     not redis.call('ZSCORE', P .. 'lease', ARGV[i]) then\n"
            "    lost = lost + 1\n"
            "  end\n"
            "end\n"
            "return lost\n";

/* ARGV: P. Returns {counters as a flat name/value list, hosts, leases}. */
static const char lua_stats[] =
    PRELUDE "return {redis.call('HGETALL', P .. 'stats'), redis.call('SCARD', P .. 'hosts'),\n"
            "        redis.call('ZCARD', P .. 'lease')}\n";

const char *const acio__rf_lua[ACIO__RF_NSCRIPTS] = {
    [ACIO__RF_INIT] = lua_init,   [ACIO__RF_ADD] = lua_add,     [ACIO__RF_TAKE] = lua_take,
    [ACIO__RF_DONE] = lua_done,   [ACIO__RF_RETRY] = lua_retry, [ACIO__RF_RENEW] = lua_renew,
    [ACIO__RF_STATS] = lua_stats,
};
