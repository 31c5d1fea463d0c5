/* acio-crawl's progress line on a terminal: pages done and queued, pages/s, bytes, errors
 * and elapsed time, redrawn in place a few times a second by a task of its own. */
#ifndef ACIO_CRAWL_PROGRESS_H
#define ACIO_CRAWL_PROGRESS_H

#include "crawl/crawl.h"

typedef struct progress_s progress_t;

/* Start redrawing (on stderr) for crawl c. Failing to start is not an error: *out is
 * then NULL and there is no progress line. */
void progress_start(progress_t **out, acio__crawl_t *c);
/* Stop and erase the line. NULL is a no-op. */
void progress_stop(progress_t *p);

#endif
