/* Error codes. Every function that can fail returns int: 0 on success, a negative code on
 * failure. Codes are negated errno values (-ECANCELED, -ETIMEDOUT, ...) or acio's own,
 * which live below ACIO_ERR_BASE so they never collide with errno. One X-macro list
 * drives the enum, acio_strerror() and acio_err_name(). */
#ifndef ACIO_ERROR_H
#define ACIO_ERROR_H

#include <errno.h>

#include "common.h"

#define ACIO_ERR_BASE (-4000)

/* XX(name, offset, message). acio's own codes: ACIO_<name> = ACIO_ERR_BASE - offset.
 * Each layer has its own list and its own range of offsets, so layers grow apart:
 * core 1-99, TLS 100-199, HTTP 200-399, databases 400-599, crawler 600-699. */
#define ACIO_OWN_ERRORS(XX)                                                                        \
    XX(EINVALSTATE, 1, "invalid state: the future is already done, or not done yet")               \
    XX(ECLOSED, 2, "the event loop is closed; create a new one")                                   \
    XX(ERUNNING, 3, "the event loop is already running (cannot run a loop inside a running loop)") \
    XX(ENOLOOP, 4, "no running event loop in this thread; call this from a task or callback")      \
    XX(ENOTASK, 5, "not called from inside a task: await needs a running task")                    \
    XX(EWRONGTHREAD, 6, "called from a thread other than the loop's; use a *_threadsafe function") \
    XX(ESTOPITERATION, 7, "the coroutine has finished (StopIteration)")                            \
    XX(ESTOPASYNCITERATION, 8, "the async iterator is exhausted (StopAsyncIteration)")             \
    XX(EQUEUEFULL, 9, "the queue is full (QueueFull)")                                             \
    XX(EQUEUEEMPTY, 10, "the queue is empty (QueueEmpty)")                                         \
    XX(EQUEUESHUTDOWN, 11, "the queue has been shut down (QueueShutDown)")                         \
    XX(EINCOMPLETEREAD, 12, "the stream ended before the expected bytes arrived")                  \
    XX(ELIMITOVERRUN, 13, "the separator was not found within the stream's limit")                 \
    XX(EBROKENBARRIER, 14, "the barrier is broken")                                                \
    XX(ENOTSTARTED, 15, "the loop is not running")                                                 \
    XX(EGENERATOREXIT, 16, "the coroutine ignored a close request and yielded again")              \
    XX(ECHILDDIED, 17, "a worker process died before returning a result")                          \
    XX(EFAILED, 18, "the task failed (see its error message)")

/* TLS (acio/tls.h): offsets 100-199. acio_ssl_last_error() adds OpenSSL's own words. */
#define ACIO_TLS_ERRORS(XX)                                                                        \
    XX(ECERTVERIFY, 100,                                                                           \
       "the peer's certificate could not be verified (unknown or untrusted CA, expired, or "       \
       "not yet valid): trust its CA with acio_ssl_context_load_verify_locations(), or turn "      \
       "verification off with acio_ssl_context_set_verify(ctx, false) if you accept the risk; "    \
       "acio_ssl_last_error() has OpenSSL's reason")                                               \
    XX(EHOSTMISMATCH, 101,                                                                         \
       "the peer's certificate is valid but not for this host name: connect with the name the "    \
       "certificate was issued for (server_hostname), or turn host name checking off with "        \
       "acio_ssl_context_set_check_hostname(ctx, false)")                                          \
    XX(ETLSHANDSHAKE, 102,                                                                         \
       "the TLS handshake failed (the peer does not speak TLS, no common protocol version or "     \
       "cipher, or it sent an alert): acio_ssl_last_error() has OpenSSL's reason")                 \
    XX(ETLS, 103,                                                                                  \
       "a TLS record could not be processed (corrupt data or an alert from the peer); the "        \
       "connection is closed: acio_ssl_last_error() has OpenSSL's reason")

/* HTTP (acio/http*.h): offsets 200-399. The parser's verdicts 200-299, the client's and
 * server's 300-399. */
#define ACIO_HTTP_ERRORS(XX)                                                                       \
    XX(EHTTP_BAD_METHOD, 200,                                                                      \
       "malformed request line: the method is not a token (RFC 9110 token characters only)")       \
    XX(EHTTP_BAD_TARGET, 201,                                                                      \
       "malformed request line: empty request target, or a byte outside visible ASCII in it")      \
    XX(EHTTP_BAD_REQUEST_LINE, 202,                                                                \
       "malformed request line: expected METHOD SP target SP HTTP/1.x CRLF with single spaces")    \
    XX(EHTTP_BAD_VERSION, 203,                                                                     \
       "unsupported or malformed HTTP version: only HTTP/1.0 and HTTP/1.1 are accepted")           \
    XX(EHTTP_BAD_STATUS_LINE, 204,                                                                 \
       "malformed status line: expected HTTP/1.x SP 3-digit status SP reason CRLF")                \
    XX(EHTTP_BAD_STATUS, 205, "malformed status code: expected three digits, 100 to 999")          \
    XX(EHTTP_START_LINE_TOO_LONG, 206,                                                             \
       "the request line or status line is longer than the limit (max_start_line; a server "       \
       "answers 414)")                                                                             \
    XX(EHTTP_BAD_HEADER_NAME, 207,                                                                 \
       "invalid header field name: empty, or a byte that is not a token character")                \
    XX(EHTTP_BAD_HEADER_VALUE, 208,                                                                \
       "invalid header field value: a control byte (NUL, DEL, ...) other than tab in it")          \
    XX(EHTTP_HEADER_WS, 209,                                                                       \
       "whitespace between a header field name and the colon (rejected: request smuggling risk, "  \
       "RFC 9112 5.1)")                                                                            \
    XX(EHTTP_MISSING_COLON, 210, "a header field line without a colon")                            \
    XX(EHTTP_OBS_FOLD, 211,                                                                        \
       "obsolete line folding (a field line starting with space or tab) is rejected (RFC 9112 "    \
       "5.2)")                                                                                     \
    XX(EHTTP_BARE_CR, 212,                                                                         \
       "a CR not followed by LF in the message framing (rejected, RFC 9112 2.2)")                  \
    XX(EHTTP_BARE_LF, 213, "a line ended by LF without CR (acio requires CRLF line endings)")      \
    XX(EHTTP_HEADER_LINE_TOO_LONG, 214,                                                            \
       "a header field line is longer than the limit (max_header_line; a server answers 431)")     \
    XX(EHTTP_TOO_MANY_HEADERS, 215,                                                                \
       "more header fields than the limit (max_headers or the caller's array; a server answers "   \
       "431)")                                                                                     \
    XX(EHTTP_HEAD_TOO_LARGE, 216,                                                                  \
       "the message head is larger than the limit (max_head_bytes; a server answers 431)")         \
    XX(EHTTP_CL_AND_TE, 217,                                                                       \
       "both Content-Length and Transfer-Encoding present (request smuggling shape, rejected)")    \
    XX(EHTTP_BAD_CONTENT_LENGTH, 218,                                                              \
       "malformed Content-Length: not a non-negative decimal integer, or too large")               \
    XX(EHTTP_CL_CONFLICT, 219,                                                                     \
       "several Content-Length values that differ (request smuggling shape, rejected)")            \
    XX(EHTTP_TE_NOT_CHUNKED, 220,                                                                  \
       "a request's Transfer-Encoding does not end in chunked, so its length is unknown (a "       \
       "server answers 400)")                                                                      \
    XX(EHTTP_TE_UNSUPPORTED, 221,                                                                  \
       "unsupported Transfer-Encoding: acio accepts exactly one coding, chunked (a server "        \
       "answers 501)")                                                                             \
    XX(EHTTP_TE_HTTP10, 222,                                                                       \
       "Transfer-Encoding in an HTTP/1.0 message (its framing cannot be trusted, RFC 9112 6.1)")   \
    XX(EHTTP_HOST, 223,                                                                            \
       "an HTTP/1.1 request must carry exactly one Host field (RFC 9112 3.2; a server answers "    \
       "400)")                                                                                     \
    XX(EHTTP_BAD_CHUNK_SIZE, 224,                                                                  \
       "malformed chunk size line: expected hex digits, optional ;extensions, then CRLF")          \
    XX(EHTTP_CHUNK_SIZE_OVERFLOW, 225,                                                             \
       "the chunk size is too large (more than 2^63 - 1, or more than 32 digits)")                 \
    XX(EHTTP_BAD_CHUNK_EXT, 226,                                                                   \
       "malformed chunk extension (expected ;name or ;name=token or ;name=\"quoted\")")            \
    XX(EHTTP_CHUNK_EXT_TOO_LONG, 227,                                                              \
       "the chunk extensions on one chunk are longer than the limit (max_chunk_ext)")              \
    XX(EHTTP_BAD_CHUNK_END, 228,                                                                   \
       "chunk data not followed by CRLF (the chunk is longer than its size said)")                 \
    XX(EHTTP_TRAILER_TOO_LARGE, 229,                                                               \
       "the chunked body's trailer fields are larger than the limit (max_trailer_bytes)")          \
    XX(EHTTP_TRUNCATED, 230, "the connection closed before the message body was complete")         \
    XX(EHTTP_INVALID_NAME, 231,                                                                    \
       "refusing to send a header whose name is empty or not a token (header injection guard)")    \
    XX(EHTTP_INVALID_VALUE, 232,                                                                   \
       "refusing to send a header value with CR, LF, NUL or another control byte (header "         \
       "injection guard)")                                                                         \
    XX(EURL_INVALID, 380, "malformed URL (RFC 3986): check the characters and delimiters")         \
    XX(EURL_RELATIVE, 381, "the URL has no scheme: give an absolute URL such as http://host/")     \
    XX(EURL_SCHEME, 382, "unsupported URL scheme: only http: and https: are accepted here")        \
    XX(EURL_HOST, 383, "the URL's host is empty or has characters a host name cannot have")        \
    XX(EURL_PORT, 384, "the URL's port is not a number from 0 to 65535")                           \
    XX(EURL_IDNA, 385, "the URL's international host name cannot be converted to IDNA ASCII")      \
    ACIO_HTTP_SERVER_ERRORS(XX)

/* The HTTP server's (acio/http_server.h): offsets 300-339. */
#define ACIO_HTTP_SERVER_ERRORS(XX)                                                                \
    XX(EHTTP_RESPONDED, 300, "this request already has a response; a handler answers once")        \
    XX(EHTTP_NOT_STARTED, 301, "no streamed response was started; call acio_http_respond_start")   \
    XX(EHTTP_BODY_TOO_LARGE, 302,                                                                  \
       "the request body is over the cap (max_body); the client gets 413")                         \
    XX(EHTTP_BODY_TIMEOUT, 303, "the client stopped sending the request body (body_timeout); 408") \
    XX(EHTTP_BODY_STREAMED, 304,                                                                   \
       "the request body was already read the other way (whole vs streamed)")

/* Database clients (Redis, MariaDB, PostgreSQL): offsets 400-599. */
#define ACIO_DB_ERRORS(XX)                                                                         \
    XX(EREDIS_PROTOCOL, 400, "the Redis server sent malformed RESP; the connection was closed")    \
    XX(EREDIS_REPLY, 401, "the Redis server answered with an error (see the reply's text)")        \
    XX(EREDIS_CONNECTION, 402,                                                                     \
       "the Redis connection was lost with the command in flight; it may or may not have run")    \
    XX(EREDIS_AUTH, 403, "the Redis server refused the username/password (AUTH or HELLO)")         \
    XX(EREDIS_TYPE, 404, "the Redis reply is not of the type this helper expects")                 \
    XX(EREDIS_PUBSUB, 405,                                                                         \
       "a subscribed Redis connection accepts only (P|S)(UN)SUBSCRIBE, PING and QUIT; use "       \
       "another connection for commands")                                                          \
    XX(EREDIS_WATCH, 406, "the transaction was aborted: a WATCHed key changed (retry it)")         \
    XX(EPG_CONNECT, 420,                                                                           \
       "could not connect to the PostgreSQL server (see acio_pg_connect_error())")                 \
    XX(EPG_SERVER, 421,                                                                            \
       "the PostgreSQL server refused the statement (see acio_pg_error_sqlstate())")               \
    XX(EPG_CONNECTION, 422, "the PostgreSQL connection is lost or was closed; open a new one")     \
    XX(EPG_BUSY, 423, "another query is in progress on this PostgreSQL connection; use a pool")    \
    XX(EPG_TYPE, 424, "the PostgreSQL value cannot be read as the type asked for")                 \
    XX(EPG_NULL, 425, "the PostgreSQL value is NULL")                                              \
    XX(EPG_UNSUPPORTED, 426,                                                                       \
       "acio does not support this PostgreSQL operation (COPY); the connection was closed")   \
    XX(EPG_ABORTED, 427,                                                                           \
       "the PostgreSQL query was not run: an earlier query of its pipeline batch failed")

/* acio-crawl: offsets 600-699. */
#define ACIO_CRAWL_ERRORS(XX)                                                                      \
    XX(EFRONTIER_LEASE, 600,                                                                       \
       "crawl: the frontier lease expired and the URL was queued again (another process took it)") \
    XX(ECRAWL_ROBOTS, 601, "crawl: robots.txt disallows this URL for this user agent (skipped)")  \
    XX(ECRAWL_TOO_LARGE, 602,                                                                      \
       "crawl: the body is larger than --max-bytes allows (not parsed); raise the limit")          \
    XX(ECRAWL_REDIRECT, 603, "crawl: a redirect without a usable Location header")                 \
    XX(ECRAWL_TOO_MANY_REDIRECTS, 604,                                                             \
       "crawl: the redirect chain is longer than --max-redirects (a loop?)")                       \
    XX(ECRAWL_OUTPUT, 605, "crawl: writing an output file failed (disk full? see the message)")    \
    XX(ECRAWL_JOURNAL, 606,                                                                        \
       "crawl: the --state journal is damaged or belongs to another crawl; use a new directory")  \
    XX(ECRAWL_STATUS, 607, "crawl: the server answered with an error status (4xx or 5xx)")

/* The MariaDB/MySQL client's own codes (acio/mysql.h): offsets 440-459 of the DB range. */
#define ACIO_MYSQL_ERRORS(XX)                                                                      \
    XX(EMYSQL_CONNECT, 440,                                                                        \
       "could not connect to the MariaDB/MySQL server (refused, access denied, unknown "           \
       "database: see acio_mysql_connect_error())")                                                \
    XX(EMYSQL_SERVER, 441,                                                                         \
       "the MariaDB/MySQL server refused the statement (see acio_mysql_error_errno() and "         \
       "acio_mysql_error_sqlstate()); the connection is still usable")                             \
    XX(EMYSQL_CONNECTION, 442, "the MariaDB/MySQL connection is lost or was closed; open a new one") \
    XX(EMYSQL_BUSY, 443,                                                                           \
       "another query is in progress on this MariaDB/MySQL connection; use a pool")                \
    XX(EMYSQL_TYPE, 444, "the MariaDB/MySQL value cannot be read as the type asked for")           \
    XX(EMYSQL_NULL, 445, "the MariaDB/MySQL value is NULL")

/* The HTTP client's own codes (acio/http_client.h): offsets 340-379 of the HTTP range. */
#define ACIO_HTTP_CLIENT_ERRORS(XX)                                                                \
    XX(EHTTP_POOL_TIMEOUT, 340,                                                                    \
       "HTTP client: no connection became free in time (connect timeout during the pool wait); "   \
       "raise the pool limit or the timeout")                                                      \
    XX(EHTTP_CONNECT_TIMEOUT, 341,                                                                 \
       "HTTP client: connecting to the server took too long (connect / sock_connect timeout)")     \
    XX(EHTTP_TLS_TIMEOUT, 342, "HTTP client: the TLS handshake took too long")                     \
    XX(EHTTP_HEADERS_TIMEOUT, 343,                                                                 \
       "HTTP client: the response head did not arrive in time (sock_read timeout)")                \
    XX(EHTTP_READ_TIMEOUT, 344,                                                                    \
       "HTTP client: the response body stalled longer than sock_read allows")                      \
    XX(EHTTP_TOTAL_TIMEOUT, 345,                                                                   \
       "HTTP client: the request's total timeout expired (see the message for the phase)")        \
    XX(EHTTP_DNS_TIMEOUT, 346, "HTTP client: resolving the host name took too long")               \
    XX(EHTTP_STATUS, 347,                                                                          \
       "HTTP client: the server answered with an error status (>= 400; see the response)")        \
    XX(EHTTP_TOO_MANY_REDIRECTS, 348,                                                              \
       "HTTP client: too many redirects (a loop?); raise max_redirects or stop following them")   \
    XX(EHTTP_DISCONNECTED, 349,                                                                    \
       "HTTP client: the server closed the connection before sending a response")                 \
    XX(EHTTP_SESSION_CLOSED, 350, "HTTP client: the session is closed; create a new one")          \
    XX(EHTTP_DECODE, 351,                                                                          \
       "HTTP client: the body's content coding (gzip, deflate, br, zstd) is corrupt")             \
    XX(EHTTP_BOMB, 352,                                                                            \
       "HTTP client: the decoded body exceeds the size or ratio cap (decompression bomb?); "       \
       "raise max_decoded_size / max_decode_ratio if it is legitimate")                            \
    XX(EHTTP_ENCODING, 353,                                                                        \
       "HTTP client: the body uses a content coding acio cannot decode; read it with "             \
       "no_decompress")                                                                            \
    XX(EHTTP_JSON, 354, "HTTP client: the body is not valid JSON")                                 \
    XX(EHTTP_PROXY, 355, "HTTP client: the proxy refused the CONNECT tunnel")                      \
    XX(EHTTP_SCHEME, 356, "HTTP client: only http:// and https:// URLs can be requested")          \
    XX(EHTTP_RELEASED, 357, "HTTP client: the response's connection is gone (released or closed)")

/* acio-crawl's shared frontier on Redis (src/crawl/redis_frontier.c, --redis): offsets
 * 650-669 of the crawl range, a list of its own so that it and ACIO_CRAWL_ERRORS grow
 * without clashing. */
#define ACIO_CRAWL_REDIS_ERRORS(XX)                                                                \
    XX(ECRAWL_REDIS_FORMAT, 650,                                                                   \
       "crawl: the Redis keys of this crawl hold data acio-crawl did not write (another "          \
       "program's keys, or another format version); choose another --redis-key or delete them")    \
    XX(ECRAWL_REDIS_SCRIPT, 651,                                                                   \
       "crawl: a frontier script failed on the Redis server (see the message; a read-only "       \
       "replica, a full server under maxmemory, or keys changed by another program)")             \
    XX(ECRAWL_REDIS_REPLY, 652,                                                                    \
       "crawl: the Redis server's answer to a frontier script is not what acio-crawl expects "    \
       "(a different acio-crawl version sharing the crawl?)")

/* Every list, for the enum, acio_strerror and acio_err_name. */
#define ACIO_ALL_ERRORS(XX)                                                                        \
    ACIO_OWN_ERRORS(XX)                                                                            \
    ACIO_TLS_ERRORS(XX) ACIO_HTTP_ERRORS(XX) ACIO_DB_ERRORS(XX) ACIO_CRAWL_ERRORS(XX)              \
    ACIO_CRAWL_REDIS_ERRORS(XX) ACIO_HTTP_CLIENT_ERRORS(XX) ACIO_MYSQL_ERRORS(XX)

typedef enum {
#define ACIO_XX_(name, off, msg) ACIO_##name = ACIO_ERR_BASE - (off),
    ACIO_ALL_ERRORS(ACIO_XX_)
#undef ACIO_XX_
} acio_errno_t;

/* A human sentence for any code acio returns (negated errno or acio's own). Never NULL;
 * the string is static. */
ACIO_EXTERN const char *acio_strerror(int code);
/* The code's symbolic name ("ECANCELED", "ACIO_EQUEUEFULL"); "UNKNOWN" if not a code. */
ACIO_EXTERN const char *acio_err_name(int code);

#endif
