/* The Redis frontier's Lua scripts (their text and the keys they use are in
 * redis_frontier_lua.c), indexed by what they do. */
#ifndef ACIO_CRAWL_REDIS_FRONTIER_LUA_H
#define ACIO_CRAWL_REDIS_FRONTIER_LUA_H

enum {
    ACIO__RF_INIT,
    ACIO__RF_ADD,
    ACIO__RF_TAKE,
    ACIO__RF_DONE,
    ACIO__RF_RETRY,
    ACIO__RF_RENEW,
    ACIO__RF_STATS,
    ACIO__RF_NSCRIPTS
};

/* The scripts' Lua text, NUL-terminated. */
extern const char *const acio__rf_lua[ACIO__RF_NSCRIPTS];

/* The key-format version written to P.."cfg": a process finding another refuses the
 * crawl (ACIO_ECRAWL_REDIS_FORMAT) rather than misreading it. */
#define ACIO__RF_FORMAT "1"

#endif
