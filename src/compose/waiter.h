/* Small helpers shared by the compose files: a "waiter" future that a done callback
 * releases (CPython's _release_waiter), and cancel-and-wait (CPython's
 * _cancel_and_wait). Internal to src/compose. */
#ifndef ACIO_COMPOSE_WAITER_H
#define ACIO_COMPOSE_WAITER_H

#include "acio.h"

/* A done callback whose data is a waiter future holding one reference for this
 * registration: it sets the waiter's result (if still pending) and drops the
 * reference. Register it with acio__waiter_watch(). */
void acio__waiter_release_cb(acio_future_t *fut, void *waiter);
/* Register acio__waiter_release_cb on fut for waiter, taking the reference it needs. */
int acio__waiter_watch(acio_future_t *fut, acio_future_t *waiter);
/* Undo acio__waiter_watch if the callback has not been scheduled yet. */
void acio__waiter_unwatch(acio_future_t *fut, acio_future_t *waiter);

/* Inside a task: cancel fut (with msg) and wait until it is done, without awaiting fut
 * itself, so that this wait stays cancellable. Returns 0, or -ECANCELED if the calling
 * task was cancelled meanwhile (fut may then still be running), or -ENOMEM. */
int acio__cancel_and_wait(acio_future_t *fut, const char *msg);

#endif
