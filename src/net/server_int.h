/* Server internals used by the TLS and stream layers: registering a connection the
 * server accepted, and a hook run when the server's memory is finally freed (start_server
 * keeps its handler arguments alive with it). */
#ifndef ACIO_NET_SERVER_INT_H
#define ACIO_NET_SERVER_INT_H

#include "net/transport_int.h"

/* Count t as one of s's connections until its connection_lost (close_clients,
 * abort_clients and wait_closed see it). */
void acio__server_add_client(acio_server_t *s, acio_transport_t *t);
/* Give a protocol the factory returned back through the server's factory_release (if
 * any): its connection could not be set up, and it will hear nothing else. */
void acio__server_release_protocol(acio_server_t *s, const acio_protocol_t *proto, void *data);
/* fn(arg) runs once when the server's memory is released. */
void acio__server_set_free_hook(acio_server_t *s, void (*fn)(void *), void *arg);

#endif
