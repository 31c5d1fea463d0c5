/* The per-loop registry of what is still open on a loop (transports, servers, child
 * processes), so that closing the loop can abort them instead of leaving fds open and
 * callbacks pending on a dead loop. Each object embeds a node; adding and removing are
 * O(1) and happen only when an object opens or ends, never per read or write.
 *
 * The loop struct belongs to the core, so the list heads live here, one record per loop
 * that has open objects, found through a one-entry per-thread cache (one loop per thread
 * makes it hit on every add but the first). */
#ifndef ACIO_NET_REGISTRY_H
#define ACIO_NET_REGISTRY_H

#include "internal.h"

typedef struct acio__net_node_s acio__net_node_t;

/* Called once for an object still registered when its loop closes, after it was taken
 * off the list, on the loop's thread and before the loop tears down its fd table and
 * ready queue: the object should stop its I/O, close its fds and drop the references
 * its pending callbacks held (those callbacks will never run). */
typedef void (*acio__net_loop_closed_fn)(acio__net_node_t *n);

struct acio__net_node_s {
    acio__net_node_t *prev, *next;
    struct acio__net_reg_s *reg; /* NULL while not registered */
    acio__net_loop_closed_fn loop_closed;
};

/* Register n (not registered yet) as open on loop. Errors: -ENOMEM (the loop's first
 * record could not be allocated; n stays unregistered). */
int acio__net_register(acio_loop_t *loop, acio__net_node_t *n, acio__net_loop_closed_fn fn);
/* Take n off its loop's list. A no-op when it is not registered. */
void acio__net_unregister(acio__net_node_t *n);

#endif
