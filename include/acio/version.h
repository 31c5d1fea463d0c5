/* acio's version, as numbers for #if and as a string at run time. */
#ifndef ACIO_VERSION_H
#define ACIO_VERSION_H

#include "common.h"

#define ACIO_VERSION_MAJOR 0
#define ACIO_VERSION_MINOR 1
#define ACIO_VERSION_PATCH 0
#define ACIO_VERSION_HEX                                                                           \
    ((ACIO_VERSION_MAJOR << 16) | (ACIO_VERSION_MINOR << 8) | ACIO_VERSION_PATCH)

/* "0.1.0" */
ACIO_EXTERN const char *acio_version_string(void);
ACIO_EXTERN unsigned acio_version(void);

#endif
