/* version.c: the version and the commit lcx was built from (the Makefile
 * passes LCX_COMMIT). */
#include "harness/version.h"

#ifndef LCX_COMMIT
#define LCX_COMMIT "unknown"
#endif

const char *lcx_commit(void) { return LCX_COMMIT; }
