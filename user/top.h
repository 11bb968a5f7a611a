/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* top.h - `reqacct top`, the terminal view (top.c). */
#ifndef REQACCT_TOP_H
#define REQACCT_TOP_H

int do_top(int argc, char **argv);

#endif
