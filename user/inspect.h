/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* inspect.h - `reqacct inspect BINARY|PID`: where the TLS uprobes would go. */
#ifndef REQACCT_INSPECT_H
#define REQACCT_INSPECT_H

/* Exit status: 0 traceable, 1 not traceable (or unreadable), 2 usage error. */
int do_inspect(int argc, char **argv);

#endif
