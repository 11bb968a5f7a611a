// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* websec.c - TLS files and basic auth users of the scrape endpoint (websec.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "errmsg.h"
#include "log.h"
#include "websec.h"

#define SHA256_LEN 32
#define SHA256_HEX_LEN (2 * SHA256_LEN)
#define SCHEME_SHA256 "sha256:"

struct websec_user {
	unsigned char user[SHA256_LEN];		/* SHA-256 of the name */
	unsigned char password[SHA256_LEN];	/* SHA-256 of the password */
	char name[WEBSEC_USER_MAX + 1];		/* for duplicate checks only */
};

struct websec_auth {
	size_t n;
	struct websec_user u[WEBSEC_USERS_MAX];
};

static void sha256(const void *p, size_t n, unsigned char out[SHA256_LEN])
{
	/* Cannot fail for a digest GnuTLS always has; zeroes if it ever did. */
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, p, n, out) < 0)
		memset(out, 0, SHA256_LEN);
}

/* 1 if equal, else 0, in time that depends on n only. */
static unsigned int ct_equal(const unsigned char *a, const unsigned char *b, size_t n)
{
	unsigned int diff = 0;

	for (size_t i = 0; i < n; i++)
		diff |= a[i] ^ b[i];
	return 1 & ((diff - 1) >> 8);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* One `user:sha256:HEX` line (trimmed, not a comment) into u. */
static int parse_user(char *line, const char *src, struct websec_user *u, char *err,
		      size_t errlen)
{
	char *colon = strchr(line, ':'), *hex;
	size_t n;

	if (!colon)
		return errmsg(err, errlen, -EINVAL, "%s: expected 'user:sha256:HEX'", src);
	n = colon - line;
	if (!n)
		return errmsg(err, errlen, -EINVAL, "%s: empty user name", src);
	if (n > WEBSEC_USER_MAX)
		return errmsg(err, errlen, -EINVAL, "%s: user name longer than %d bytes", src,
			      WEBSEC_USER_MAX);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			return errmsg(err, errlen, -EINVAL, "%s: control character in the user name",
				      src);
	memcpy(u->name, line, n);
	u->name[n] = '\0';
	/* The value is never echoed: it may be a password written in plain text. */
	if (strncmp(colon + 1, SCHEME_SHA256, strlen(SCHEME_SHA256)))
		return errmsg(err, errlen, -EINVAL,
			      "%s: user '%s': the password must be given as sha256:HEX, its SHA-256 "
			      "in hex (printf %%s PASSWORD | sha256sum), never in plain text",
			      src, u->name);
	hex = colon + 1 + strlen(SCHEME_SHA256);
	if (strlen(hex) != SHA256_HEX_LEN)
		return errmsg(err, errlen, -EINVAL, "%s: user '%s': sha256 wants %d hex digits, "
			      "got %zu characters", src, u->name, SHA256_HEX_LEN, strlen(hex));
	for (size_t i = 0; i < SHA256_LEN; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return errmsg(err, errlen, -EINVAL, "%s: user '%s': sha256 wants hex digits "
				      "(0-9, a-f)", src, u->name);
		u->password[i] = hi << 4 | lo;
	}
	sha256(u->name, n, u->user);
	return 0;
}

int websec__auth_parse(const char *text, const char *name, struct websec_auth **out, char *err,
		       size_t errlen)
{
	struct websec_auth *a = calloc(1, sizeof(*a));
	char *copy = strdup(text), *line, *next, src[4096 + 32];
	int lineno = 0, rc = 0;

	if (!a || !copy) {
		rc = errmsg(err, errlen, -ENOMEM, "%s: out of memory", name);
		goto out;
	}
	for (line = copy; line && !rc; line = next) {
		char *e;

		lineno++;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		line += strspn(line, " \t");
		e = line + strlen(line);
		while (e > line && strchr(" \t\r", e[-1]))
			*--e = '\0';
		if (!*line || *line == '#')
			continue;
		snprintf(src, sizeof(src), "%s:%d", name, lineno);
		if (a->n == WEBSEC_USERS_MAX) {
			rc = errmsg(err, errlen, -EINVAL, "%s: more than %d users", src,
				    WEBSEC_USERS_MAX);
			break;
		}
		rc = parse_user(line, src, &a->u[a->n], err, errlen);
		for (size_t i = 0; !rc && i < a->n; i++)
			if (!strcmp(a->u[i].name, a->u[a->n].name))
				rc = errmsg(err, errlen, -EINVAL, "%s: user '%s' listed twice", src,
					    a->u[i].name);
		a->n += !rc;
	}
	if (!rc && !a->n)
		rc = errmsg(err, errlen, -EINVAL,
			    "%s: no users (want lines of 'user:sha256:HEX'; an empty file would "
			    "lock every scraper out)", name);
out:
	if (copy) {
		explicit_bzero(copy, strlen(text));
		free(copy);
	}
	if (rc) {
		websec__auth_free(a);
		return rc;
	}
	*out = a;
	return 0;
}

/* A whole small file into a malloc'ed NUL-ended buffer; errors name it. */
static int read_small(const char *path, const char *what, char **out, size_t *len, char *err,
		      size_t errlen)
{
	FILE *f = fopen(path, "re");
	struct stat st;
	char *buf;
	size_t n;
	int rc;

	if (!f) {
		rc = -errno;
		return errmsg(err, errlen, rc, "%s %s: %s", what, path, strerror(-rc));
	}
	if (!fstat(fileno(f), &st) && !S_ISREG(st.st_mode)) {
		fclose(f);
		return errmsg(err, errlen, -EINVAL, "%s %s: not a regular file", what, path);
	}
	buf = malloc(WEBSEC_FILE_MAX + 1);
	if (!buf) {
		fclose(f);
		return errmsg(err, errlen, -ENOMEM, "%s %s: out of memory", what, path);
	}
	n = fread(buf, 1, WEBSEC_FILE_MAX + 1, f);
	rc = ferror(f) ? -EIO : 0;
	fclose(f);
	if (rc)
		errmsg(err, errlen, rc, "%s %s: read error", what, path);
	else if (n > WEBSEC_FILE_MAX)
		rc = errmsg(err, errlen, -EINVAL, "%s %s: larger than %d bytes", what, path,
			    WEBSEC_FILE_MAX);
	else if (!n)
		rc = errmsg(err, errlen, -EINVAL, "%s %s: empty", what, path);
	else if (memchr(buf, '\0', n))
		rc = errmsg(err, errlen, -EINVAL, "%s %s: contains a NUL byte (not PEM or text)",
			    what, path);
	if (rc) {
		explicit_bzero(buf, n < WEBSEC_FILE_MAX ? n : WEBSEC_FILE_MAX);
		free(buf);
		return rc;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	/* Secrets readable by every local user are worth a word, not a refusal
	 * (a mounted Kubernetes Secret is 0644 by default). */
	if (!stat(path, &st) && (st.st_mode & S_IROTH) && strcmp(what, "certificate"))
		pr_info("note: %s %s is readable by every user (mode %03o; 0600 would do)\n",
			what, path, st.st_mode & 0777);
	return 0;
}

int websec__auth_load(const char *path, struct websec_auth **out, char *err, size_t errlen)
{
	char *text;
	size_t n;
	int rc = read_small(path, "basic auth file", &text, &n, err, errlen);

	if (rc)
		return rc;
	rc = websec__auth_parse(text, path, out, err, errlen);
	websec__free_secret(text);
	return rc;
}

void websec__auth_free(struct websec_auth *a)
{
	if (!a)
		return;
	explicit_bzero(a, sizeof(*a));
	free(a);
}

size_t websec__auth_users(const struct websec_auth *a)
{
	return a ? a->n : 0;
}

bool websec__auth_check(const struct websec_auth *a, const char *user, const char *password)
{
	unsigned char uh[SHA256_LEN], ph[SHA256_LEN];
	unsigned int ok = 0;

	if (!a || !user || !password)
		return false;
	sha256(user, strlen(user), uh);
	sha256(password, strlen(password), ph);
	/* Every user is compared, and with &, not &&: no early exit. */
	for (size_t i = 0; i < a->n; i++)
		ok |= ct_equal(uh, a->u[i].user, SHA256_LEN) &
		      ct_equal(ph, a->u[i].password, SHA256_LEN);
	explicit_bzero(ph, sizeof(ph));
	return ok;
}

void websec__free_secret(char *s)
{
	if (!s)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

/* Parse both, check they belong together; errors name the files. */
static int tls_check(const char *cert_path, const char *key_path, char *cert, size_t cert_len,
		     char *key, size_t key_len, char *err, size_t errlen)
{
	gnutls_datum_t cd = { (unsigned char *)cert, cert_len }, kd = { (unsigned char *)key, key_len };
	gnutls_certificate_credentials_t cred = NULL;
	gnutls_x509_privkey_t pk = NULL;
	gnutls_x509_crt_t *crts = NULL;
	unsigned int ncrts = 0;
	time_t expires;
	int rc;

	rc = gnutls_x509_crt_list_import2(&crts, &ncrts, &cd, GNUTLS_X509_FMT_PEM, 0);
	if (rc < 0 || !ncrts)
		return errmsg(err, errlen, -EINVAL, "certificate %s: no PEM certificate in it (%s)",
			      cert_path, rc < 0 ? gnutls_strerror(rc) : "none found");
	expires = gnutls_x509_crt_get_expiration_time(crts[0]);
	if (expires != (time_t)-1 && expires < time(NULL))
		pr_warn("certificate %s expired at %ld (serving it anyway; scrapers will refuse it)\n",
			cert_path, (long)expires);
	for (unsigned int i = 0; i < ncrts; i++)
		gnutls_x509_crt_deinit(crts[i]);
	gnutls_free(crts);

	if (strstr(key, "ENCRYPTED"))
		return errmsg(err, errlen, -EINVAL,
			      "key %s: encrypted; the agent reads unencrypted PEM keys only", key_path);
	if ((rc = gnutls_x509_privkey_init(&pk)) >= 0)
		rc = gnutls_x509_privkey_import2(pk, &kd, GNUTLS_X509_FMT_PEM, NULL, 0);
	gnutls_x509_privkey_deinit(pk);
	if (rc < 0)
		return errmsg(err, errlen, -EINVAL, "key %s: not a PEM private key (%s)", key_path,
			      gnutls_strerror(rc));

	if ((rc = gnutls_certificate_allocate_credentials(&cred)) >= 0)
		rc = gnutls_certificate_set_x509_key_mem2(cred, &cd, &kd, GNUTLS_X509_FMT_PEM, NULL, 0);
	gnutls_certificate_free_credentials(cred);
	if (rc == GNUTLS_E_CERTIFICATE_KEY_MISMATCH)
		return errmsg(err, errlen, -EINVAL, "key %s: not the key of certificate %s", key_path,
			      cert_path);
	if (rc < 0)
		return errmsg(err, errlen, -EINVAL, "certificate %s with key %s: %s", cert_path,
			      key_path, gnutls_strerror(rc));
	return 0;
}

int websec__tls_load(const char *cert_path, const char *key_path, char **cert, char **key,
		     char *err, size_t errlen)
{
	size_t cert_len, key_len;
	int rc;

	if (!cert_path[0] || !key_path[0])
		return errmsg(err, errlen, -EINVAL, "web_tls_cert_file and web_tls_key_file go "
			      "together (only %s is set)", cert_path[0] ? "the certificate" : "the key");
	rc = read_small(cert_path, "certificate", cert, &cert_len, err, errlen);
	if (rc)
		return rc;
	rc = read_small(key_path, "key", key, &key_len, err, errlen);
	if (rc) {
		free(*cert);
		return rc;
	}
	rc = tls_check(cert_path, key_path, *cert, cert_len, *key, key_len, err, errlen);
	if (rc) {
		free(*cert);
		websec__free_secret(*key);
		*cert = *key = NULL;
	}
	return rc;
}
