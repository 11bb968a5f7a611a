/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * dns_parse.h - the DNS wire parser (RFC 1035 section 4.1): header and first
 * question. One source for the BPF programs and the host (unit tests, fuzzer),
 * so every loop is bounded by a constant and every buffer index is masked.
 *
 * The caller copies the message's first bytes (up to RA_DNS_PARSE_MAX) into a
 * buffer of RA_DNS_BUF bytes and passes how many it copied (avail) and the
 * message's length (msg_len; equal for UDP, from the 2-byte prefix for TCP).
 * A name is never attributed unless it parsed completely: compression pointers
 * in the question (nothing precedes it that they could point to), reserved
 * label types, names past the end or longer than 255 bytes are malformed.
 */
#ifndef REQACCT_DNS_PARSE_H
#define REQACCT_DNS_PARSE_H

#ifndef __bpf__
#include <linux/types.h>
#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif
#endif

#include "reqacct_abi.h"
#include "bounds.h"

#define RA_DNS_HDR_LEN		12	/* RFC 1035 4.1.1 */
#define RA_DNS_WIRE_NAME_MAX	255	/* RFC 1035 2.3.4, incl. the root label */
#define RA_DNS_LABEL_MAX	63
#define RA_DNS_MIN_RR		11	/* root name (1) + type, class, TTL, rdlength (10) */
#define RA_DNS_MIN_QUESTION	5	/* root name (1) + qtype, qclass (4) */
#define RA_DNS_PARSE_MAX	(RA_DNS_HDR_LEN + RA_DNS_WIRE_NAME_MAX + 4)
#define RA_DNS_BUF		512	/* power of two >= RA_DNS_PARSE_MAX */
#define RA_DNS_MASK		(RA_DNS_BUF - 1)
#define RA_DNS_TEXT_MAX		256	/* a dotted name (253) and its NUL fit */

/* FNV-1a, 64 bit (http://www.isthe.com/chongo/tech/comp/fnv/) */
#define RA_FNV64_OFFSET	0xcbf29ce484222325ULL
#define RA_FNV64_PRIME	0x100000001b3ULL

enum ra_dns_err {
	RA_DNS_OK = 0,
	RA_DNS_E_SHORT,		/* shorter than the 12-byte header */
	RA_DNS_E_NO_QUESTION,	/* qdcount is 0 */
	RA_DNS_E_COUNTS,	/* section counts need more bytes than the message has */
	RA_DNS_E_POINTER,	/* compression pointer in the question name */
	RA_DNS_E_LABEL_TYPE,	/* label type 01 or 10 (RFC 6891 6.2.1: reserved) */
	RA_DNS_E_TRUNCATED,	/* name or qtype/qclass runs past the message end */
	RA_DNS_E_NAME_LONG,	/* name longer than 255 bytes */
	RA_DNS_E_PARTIAL,	/* question not in the bytes seen (TCP segment); not malformed */
	RA_DNS_E_MAX,
};

struct ra_dns_msg {
	__u64 name_hash;	/* FNV-1a of the lowercased name in dotted form */
	__u16 id;
	__u16 qtype;
	__u16 qclass;
	__u16 ancount;
	__u8 qr;		/* 1: response */
	__u8 opcode;
	__u8 rcode;		/* header RCODE (4 bits; no EDNS extension) */
	__u8 tc;		/* truncated (TC bit) */
	__u8 name_len;		/* bytes of name[] used, without the NUL */
	__u8 name_cut;		/* longer than RA_DNS_NAME_MAX - 1: name[] is cut there */
	char name[RA_DNS_TEXT_MAX];	/* lowercase, dotted, NUL-terminated; "." for the
					 * root; cut to RA_DNS_NAME_MAX - 1 bytes */
	/* The parse's state. Here, not on the stack, so that in BPF every
	 * label step starts from unknown values: the verifier then checks the
	 * bpf_loop() callback once instead of following exact offsets. */
	__u32 off;		/* next wire byte */
	__u32 out;		/* characters of the dotted name so far */
	__s32 err;		/* -1 while running, then RA_DNS_OK or an error */
};

static __always_inline __u16 ra_get16(const __u8 *b, __u32 off)
{
	return (__u16)(b[off & RA_DNS_MASK] << 8) | b[(off + 1) & RA_DNS_MASK];
}

/*
 * Append a name character: lowercased, hashed as sent, shown as '?' outside
 * printable ASCII (a label may hold any octet, NUL included). Branch-free:
 * the verifier walks the label loop once per character, and every branch
 * would double the states it keeps. (s >> 31) & 1 is 1 when s < 0.
 */
static __always_inline void ra_dns_emit(struct ra_dns_msg *m, __u32 *out, __u8 c)
{
	__s32 x = (__s32)c - 'A', y = (__s32)c - '!';
	__u8 lc = c + ((((~x & (x - 26)) >> 31) & 1) << 5);	/* 'A' <= c <= 'Z' */
	__u8 ok = ((~y & (y - 94)) >> 31) & 1;			/* '!' <= c <= '~' */

	m->name_hash = (m->name_hash ^ lc) * RA_FNV64_PRIME;
	m->name[*out & (RA_DNS_TEXT_MAX - 1)] = '?' + ok * (lc - '?');
	(*out)++;
}

/* What the question name's parse reads (its state is in m). */
struct ra_dns_name_ctx {
	const __u8 *b;
	struct ra_dns_msg *m;
	__u32 avail, msg_len;
};

/* Labels in a name: each takes at least 2 wire bytes, the root label 1. */
#define RA_DNS_LABELS_MAX (RA_DNS_WIRE_NAME_MAX / 2 + 1)

/* One label: its length byte and characters. 1 stops the loop. */
static __always_inline long ra_dns_label_step(__u32 i, struct ra_dns_name_ctx *c)
{
	struct ra_dns_msg *m = c->m;
	__u32 len, off = m->off;

	if (off >= c->avail) {
		m->err = off >= c->msg_len ? RA_DNS_E_TRUNCATED : RA_DNS_E_PARTIAL;
		return 1;
	}
	len = c->b[off & RA_DNS_MASK];
	off++;
	if (len == 0) {
		m->off = off;
		m->err = RA_DNS_OK;
		return 1;
	}
	if ((len & 0xc0) == 0xc0)
		m->err = RA_DNS_E_POINTER;
	else if (len & 0xc0)
		m->err = RA_DNS_E_LABEL_TYPE;
	else if (off + len - RA_DNS_HDR_LEN + 1 > RA_DNS_WIRE_NAME_MAX)
		m->err = RA_DNS_E_NAME_LONG;	/* no room left for the root label */
	else if (off + len > c->avail)
		m->err = off + len > c->msg_len ? RA_DNS_E_TRUNCATED : RA_DNS_E_PARTIAL;
	if (m->err >= 0)
		return 1;
	if (m->out)
		ra_dns_emit(m, &m->out, '.');
	for (__u32 j = 0; j < RA_DNS_LABEL_MAX; j++) {
		if (j >= len)
			break;
		ra_dns_emit(m, &m->out, c->b[(off + j) & RA_DNS_MASK]);
	}
	m->off = off + len;
	return 0;
}

/*
 * The name loop, a label per iteration. In BPF it is bpf_loop() (Linux
 * 5.17+): the verifier checks the step once instead of walking every
 * iteration of data-dependent branches, which exceeds its 1M-instruction
 * budget. On the host, a for loop.
 */
#ifdef __bpf__
static long ra_dns_label_cb(__u32 i, void *ctx)
{
	return ra_dns_label_step(i, ctx);
}
#define RA_DNS_NAME_LOOP(c) bpf_loop(RA_DNS_LABELS_MAX, ra_dns_label_cb, (c), 0)
#else
#define RA_DNS_NAME_LOOP(c)                                      \
	do {                                                      \
		for (__u32 i_ = 0; i_ < RA_DNS_LABELS_MAX; i_++)  \
			if (ra_dns_label_step(i_, (c)))          \
				break;                            \
	} while (0)
#endif

/*
 * Parse the header and first question of the message in b[0, avail).
 * Returns RA_DNS_OK or an enum ra_dns_err; the header fields are valid from
 * RA_DNS_E_NO_QUESTION on (anything but RA_DNS_E_SHORT).
 */
static __always_inline int ra_dns_parse(const __u8 *b, __u32 avail, __u32 msg_len,
					struct ra_dns_msg *m)
{
	struct ra_dns_name_ctx c = { .b = b, .m = m, .msg_len = msg_len };
	__u32 qd, rr;
	__u64 n;

	if (avail > msg_len)
		avail = msg_len;
	if (avail > RA_DNS_PARSE_MAX)
		avail = RA_DNS_PARSE_MAX;
	c.avail = avail;
	if (msg_len < RA_DNS_HDR_LEN)
		return RA_DNS_E_SHORT;
	if (avail < RA_DNS_HDR_LEN)
		return RA_DNS_E_PARTIAL;
	m->id = ra_get16(b, 0);
	m->qr = b[2] >> 7;
	m->opcode = (b[2] >> 3) & 0xf;
	m->tc = (b[2] >> 1) & 1;
	m->rcode = b[3] & 0xf;
	qd = ra_get16(b, 4);
	m->ancount = ra_get16(b, 6);
	rr = (__u32)m->ancount + ra_get16(b, 8) + ra_get16(b, 10);
	if (!qd)
		return RA_DNS_E_NO_QUESTION;
	if (qd * RA_DNS_MIN_QUESTION + rr * RA_DNS_MIN_RR > msg_len - RA_DNS_HDR_LEN)
		return RA_DNS_E_COUNTS;
	m->name_hash = RA_FNV64_OFFSET;
	m->off = RA_DNS_HDR_LEN;
	m->out = 0;
	m->err = -1;
	RA_DNS_NAME_LOOP(&c);
	if (m->err < 0)
		return RA_DNS_E_NAME_LONG;	/* cannot happen: the length check stops first */
	if (m->err)
		return m->err;
	if (!m->out)
		ra_dns_emit(m, &m->out, '.');
	if (m->off + 4 > avail)
		return m->off + 4 > msg_len ? RA_DNS_E_TRUNCATED : RA_DNS_E_PARTIAL;
	m->qtype = ra_get16(b, m->off);
	m->qclass = ra_get16(b, m->off + 2);
	m->name_cut = m->out > RA_DNS_NAME_MAX - 1;
	n = m->out < RA_DNS_NAME_MAX - 1 ? m->out : RA_DNS_NAME_MAX - 1;
	RA_MASK(n, RA_DNS_NAME_MAX - 1);
	m->name_len = n;
	m->name[n] = 0;
	return RA_DNS_OK;
}

#endif /* REQACCT_DNS_PARSE_H */
