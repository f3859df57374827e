#ifndef LCX_VERSION_H
#define LCX_VERSION_H

#define LCX_VERSION "0.1.0"

/* The git commit lcx was built from ("unknown" outside a checkout). */
const char *lcx_commit(void);

#endif
