/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * websec.h - what protects the scrape endpoint, in the spirit of
 * Prometheus' exporter-toolkit web configuration (tls_server_config,
 * basic_auth_users), kept small: a PEM certificate and key checked at start
 * (GnuTLS, which libmicrohttpd serves TLS with), and a basic auth file of
 * `user:sha256:HEX` lines checked in constant time. Every error names the
 * file (and line) and what is wrong; no password or key byte is ever
 * logged.
 */
#ifndef REQACCT_WEBSEC_H
#define REQACCT_WEBSEC_H

#include <stdbool.h>
#include <stddef.h>

#define WEBSEC_USERS_MAX 64		/* lines of a basic auth file */
#define WEBSEC_USER_MAX 64		/* bytes of a user name */
#define WEBSEC_FILE_MAX (1 << 20)	/* bytes of a certificate, key or auth file */

struct websec_auth;

/*
 * Parse a basic auth file's text (named name in errors): one user a line,
 * `user:sha256:HEX` with HEX the SHA-256 of the password in 64 hex digits
 * (`printf %s PASSWORD | sha256sum`); blank lines and lines starting with
 * '#' are skipped. 0 and *out, or -EINVAL with "name:line: what" in err.
 */
int websec__auth_parse(const char *text, const char *name, struct websec_auth **out, char *err,
		       size_t errlen);
int websec__auth_load(const char *path, struct websec_auth **out, char *err, size_t errlen);
void websec__auth_free(struct websec_auth *a);
size_t websec__auth_users(const struct websec_auth *a);

/* Is user:password one of a's? Time independent of where (or whether) the
 * user and password match. */
bool websec__auth_check(const struct websec_auth *a, const char *user, const char *password);

/*
 * Read a PEM certificate (chain) and its unencrypted PEM private key, and
 * check that they parse and belong together. 0 with malloc'ed NUL-ended
 * PEM texts in *cert and *key (free *key with websec__free_secret), or
 * -errno with "file: what" in err.
 */
int websec__tls_load(const char *cert_path, const char *key_path, char **cert, char **key,
		     char *err, size_t errlen);
/* Wipe, then free, a NUL-ended secret. */
void websec__free_secret(char *s);

#endif
