/* Counting the process's open file descriptors, for the tests that check nothing leaks
 * one (take a count before, compare after). Header-only: each test file is its own
 * program. */
#ifndef ACIO_TESTS_SUPPORT_FDS_H
#define ACIO_TESTS_SUPPORT_FDS_H

#include <dirent.h>

/* Entries of /proc/self/fd; the directory stream's own fd is counted every time, so
 * differences are exact. */
__attribute__((unused)) static int count_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

#endif
