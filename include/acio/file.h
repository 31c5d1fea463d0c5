/* Asynchronous files: the seeds' aiofiles. Each operation runs the blocking call (open,
 * read, write, seek, fsync, close, ...) on a worker thread while the calling task waits,
 * so the loop keeps running other tasks. The file is buffered like Python's (a stdio
 * stream underneath), so many small writes cost one system call; a small write or a
 * read that the buffer alone can serve (no system call, so nothing can block) completes
 * at once on the loop's thread without yielding.
 *
 *     acio_file_t *f;
 *     if (acio_file_open(&f, "found.txt", "a") == 0) {       // async with aiofiles.open()
 *         acio_file_writef(f, "%s\t%s\n", url, link);         // await f.write(...)
 *         acio_file_close(f);
 *     }
 *
 * Every function that does I/O is a coroutine: call it from a task (ACIO_ENOTASK
 * otherwise). Operations on one file run one at a time, in the order they were called,
 * even from several tasks. Cancelling a task that waits on an operation returns
 * -ECANCELED at once, but the operation itself cannot be stopped half-way on its thread:
 * it completes (a write is done, a read's data is dropped), as with aiofiles. */
#ifndef ACIO_FILE_H
#define ACIO_FILE_H

#include <sys/types.h>

#include "common.h"

typedef struct acio_file_s acio_file_t;

/* aiofiles.open(path, mode): mode is Python's: one of "r", "w", "a", "x", optionally
 * with "+", and "b" or "t" (accepted and ignored: C has no text mode). The file is
 * opened close-on-exec. Coroutine.
 * Ownership: *out is the caller's until acio_file_close(), which frees it.
 * Errors: -EINVAL (NULL argument, bad mode), ACIO_ENOTASK, -ENOENT, -EACCES, -EISDIR
 * (a directory, whatever the mode, as Python's IsADirectoryError), -EEXIST ("x"),
 * -EMFILE, -ENOMEM, -ECANCELED (the file is then closed for you), other open(2) errors. */
ACIO_EXTERN ACIO_NODISCARD int acio_file_open(acio_file_t **out, const char *path,
                                              const char *mode);

/* f.read(n): read up to n bytes into buf; *nread < n only at end of file (0 at EOF).
 * Coroutine. Errors: -EINVAL, -EBADF (not open for reading, or closed), -ECANCELED,
 * read(2) errors (-EIO, -EISDIR, ...). */
ACIO_EXTERN ACIO_NODISCARD int acio_file_read(acio_file_t *f, void *buf, size_t n, size_t *nread);
/* f.read(): the rest of the file in a malloc'd NUL-terminated buffer (free() it).
 * Coroutine. Errors: as read, -ENOMEM. */
ACIO_EXTERN ACIO_NODISCARD int acio_file_read_all(acio_file_t *f, char **data, size_t *len);
/* f.readline(): the next line including its '\n' (none on a last unterminated line), in a
 * malloc'd NUL-terminated buffer (free() it); *len = 0 and an empty string at EOF.
 * Coroutine. Errors: as read, -ENOMEM. */
ACIO_EXTERN ACIO_NODISCARD int acio_file_readline(acio_file_t *f, char **line, size_t *len);
/* `async for line in f`: like readline, but the end of the file is
 * ACIO_ESTOPASYNCITERATION (and *line is NULL) instead of an empty line. */
ACIO_EXTERN ACIO_NODISCARD int acio_file_next_line(acio_file_t *f, char **line, size_t *len);

/* f.write(data): write len bytes (buffered; errors may surface at flush or close).
 * data is copied before the call returns control to the loop, so the caller's buffer
 * need not outlive the call. Coroutine. Errors: -EINVAL, -EBADF (not open for
 * writing, or closed), -ENOSPC, -EIO, -ECANCELED (the write may still happen), -ENOMEM. */
ACIO_EXTERN ACIO_NODISCARD int acio_file_write(acio_file_t *f, const void *data, size_t len);
/* f.write(f"...") with a printf format. Coroutine. Errors: as write. */
ACIO_EXTERN ACIO_NODISCARD int acio_file_writef(acio_file_t *f, const char *fmt, ...)
    ACIO_PRINTF(2, 3);

/* f.seek(offset, whence): whence is SEEK_SET, SEEK_CUR or SEEK_END; the new position is
 * stored in *pos (may be NULL). Coroutine. Errors: -EINVAL, -ESPIPE, -EBADF, -ECANCELED. */
ACIO_EXTERN ACIO_NODISCARD int acio_file_seek(acio_file_t *f, off_t offset, int whence, off_t *pos);
/* f.tell(). Coroutine. Errors: -EINVAL, -EBADF, -ECANCELED. */
ACIO_EXTERN ACIO_NODISCARD int acio_file_tell(acio_file_t *f, off_t *pos);
/* f.flush(): hand the buffered data to the kernel (not fsync). Coroutine.
 * Errors: -EBADF, -ENOSPC, -EIO, -ECANCELED. */
ACIO_EXTERN ACIO_NODISCARD int acio_file_flush(acio_file_t *f);
/* f.truncate(size): cut (or extend) the file to size bytes; size < 0 means the current
 * position, as in Python. Coroutine. Errors: -EINVAL, -EBADF, -ECANCELED. */
ACIO_EXTERN ACIO_NODISCARD int acio_file_truncate(acio_file_t *f, off_t size);
/* os.fsync(f.fileno()) after a flush: the data is on disk when it returns. Coroutine. */
ACIO_EXTERN ACIO_NODISCARD int acio_file_fsync(acio_file_t *f);

/* f.close(): flush, close and free f, after the operations already queued on it. f is
 * invalid as soon as this is called, whatever it returns; the returned code is the
 * flush's or close's error (data that could not be written is reported here).
 * Coroutine; if the task is cancelled the close still happens. NULL returns 0.
 * Errors: ACIO_ENOTASK (f is left open and valid), -ENOSPC, -EIO, -ECANCELED. */
ACIO_EXTERN int acio_file_close(acio_file_t *f);

/* The file's path as given to open (borrowed, valid until close). */
ACIO_EXTERN const char *acio_file_name(const acio_file_t *f);
/* The file's user slot (acio never touches it). */
ACIO_EXTERN void acio_file_set_data(acio_file_t *f, void *data);
ACIO_EXTERN void *acio_file_get_data(const acio_file_t *f);
/* f.fileno(). Do not read or write it behind the file's buffer. */
ACIO_EXTERN int acio_file_fileno(const acio_file_t *f);

#endif
