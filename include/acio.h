/* acio: Python's asyncio, natively in C. This umbrella header is the only one users
 * include; it pulls in one header per area. */
#ifndef ACIO_H
#define ACIO_H

#ifdef __cplusplus
extern "C" {
#endif

#include "acio/common.h"
#include "acio/version.h"
#include "acio/error.h"
#include "acio/coro.h"
#include "acio/loop.h"
#include "acio/future.h"
#include "acio/task.h"
#include "acio/sync.h"
#include "acio/queue.h"
#include "acio/aiter.h"
#include "acio/compose.h"
#include "acio/executor.h"
#include "acio/signal.h"
#include "acio/subprocess.h"
#include "acio/file.h"
#include "acio/transport.h"
#include "acio/net.h"
#include "acio/stream.h"
#include "acio/tls.h"
#include "acio/url.h"
#include "acio/mysql.h"
#include "acio/pg.h"
#include "acio/redis.h"
#include "acio/html.h"
#include "acio/robots.h"
#include "acio/seen.h"
#include "acio/warc.h"
#include "acio/http_parser.h"
#include "acio/http_headers.h"
#include "acio/http_server.h"
#include "acio/http_client.h"

#ifdef __cplusplus
}
#endif

#endif
