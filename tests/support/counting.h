/* A protocol (stream and datagram) whose callbacks only count, for the tests about who
 * gets called when (closing, aborting, servers); received data is dropped. A server
 * created with counting_factory marks its connections, so the test can find the server
 * side of each one in counted.accepted. And the check that a transport the loop's close
 * aborted is left harmless. Header-only: each test file is its own program. */
#ifndef ACIO_TESTS_SUPPORT_COUNTING_H
#define ACIO_TESTS_SUPPORT_COUNTING_H

#include <criterion/criterion.h>
#include <string.h>

#include "acio.h"

#define COUNTED_MAX_ACCEPTED 8

static struct {
    int made, lost;              /* connection_made / connection_lost calls, datagrams too */
    acio_transport_t *last_made; /* the transport of the latest connection_made */
    acio_transport_t *accepted[COUNTED_MAX_ACCEPTED]; /* server sides, in order */
    int naccepted;
} counted;

static inline void counted_reset(void)
{
    memset(&counted, 0, sizeof counted);
}

static inline void counting_made(acio_transport_t *t, void *data)
{
    counted.made++;
    counted.last_made = t;
    if (data == &counted && counted.naccepted < COUNTED_MAX_ACCEPTED)
        counted.accepted[counted.naccepted++] = t;
}

/* Also usable alone: a data_received that drops the bytes. */
static inline void noop_data_received(acio_transport_t *t, const void *buf, size_t len, void *data)
{
    (void)t, (void)buf, (void)len, (void)data;
}

static inline void counting_lost(acio_transport_t *t, int error, void *data)
{
    (void)t, (void)error, (void)data;
    counted.lost++;
}

static const acio_protocol_t counting_protocol
    __attribute__((unused)) = {.connection_made = counting_made,
                               .data_received = noop_data_received,
                               .connection_lost = counting_lost};

static const acio_datagram_protocol_t counting_datagram_protocol
    __attribute__((unused)) = {.connection_lost = counting_lost};

/* For create_server: every accepted connection speaks counting_protocol, marked as a
 * server side. */
static inline int counting_factory(void *fdata, const acio_protocol_t **p, void **data)
{
    (void)fdata;
    *p = &counting_protocol;
    *data = &counted;
    return 0;
}

/* A transport that the loop's close aborted: what the test still holds of it can be
 * inspected, closed, aborted and paused as harmless no-ops (the caller still unrefs it). */
static inline void expect_aborted_transport(acio_transport_t *t)
{
    cr_assert(acio_transport_is_closing(t));
    cr_assert_eq(acio_transport_get_fd(t), -1);
    cr_assert_eq(acio_transport_get_write_buffer_size(t), 0);
    acio_transport_close(t);
    acio_transport_abort(t);
    cr_assert_eq(acio_transport_pause_reading(t) <= 0, true);
    cr_assert_eq(acio_transport_resume_reading(t) <= 0, true);
    cr_assert_not(acio_transport_is_reading(t));
}

#endif
