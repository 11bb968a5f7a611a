// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* peers.c - the peer budget (see peers.h). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fnv.h"
#include "peers.h"

const __u8 PEERS_OTHER[RA_ADDR_LEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* A judged flow (own: its verdict), or a group (peer zeroed; n: peers it owns). */
struct entry {
	struct ra_flow_key k;
	__u32 n;
	bool used, own;
};

/* Open addressing, 2 x max + 1 slots, never shrinks. */
struct table {
	struct entry *e;
	__u32 slots, used, max;
};

struct peers {
	struct table flows, groups;
	__u32 max_peers;
};

/* k's entry; with add, made if there is room. NULL: absent (or no room). */
static struct entry *find(struct table *t, const struct ra_flow_key *k, bool add)
{
	__u32 i = fnv(k, sizeof(*k)) % t->slots;

	while (t->e[i].used && memcmp(&t->e[i].k, k, sizeof(*k)))
		i = (i + 1) % t->slots;
	if (t->e[i].used)
		return &t->e[i];
	if (!add || t->used == t->max)
		return NULL;
	t->e[i].k = *k;
	t->e[i].used = true;
	t->used++;
	return &t->e[i];
}

static int table_init(struct table *t, __u32 max)
{
	t->max = max;
	t->slots = 2 * max + 1;
	t->e = calloc(t->slots, sizeof(*t->e));
	return t->e ? 0 : -1;
}

struct peers *peers__new(__u32 max_peers, __u32 cap)
{
	struct peers *p = calloc(1, sizeof(*p));

	if (!p || table_init(&p->flows, cap) || table_init(&p->groups, cap)) {
		peers__free(p);
		return NULL;
	}
	p->max_peers = max_peers;
	return p;
}

void peers__free(struct peers *p)
{
	if (!p)
		return;
	free(p->flows.e);
	free(p->groups.e);
	free(p);
}

/* Whether k keeps its peer: judged at its first sight, then remembered. A
 * flow that finds no room to be remembered is folded, now and after (the
 * table never shrinks), so its verdict does not change either. */
static bool judge(struct peers *p, const struct ra_flow_key *k)
{
	struct ra_flow_key g = *k;
	struct entry *f = find(&p->flows, k, false), *grp;

	if (f)
		return f->own;
	memset(g.peer, 0, sizeof(g.peer));
	grp = find(&p->groups, &g, true);
	f = find(&p->flows, k, true);
	if (!f)
		return false;
	f->own = grp && grp->n < p->max_peers;
	grp->n += f->own;
	return f->own;
}

struct order {
	__u64 w;
	__u32 i;
};

static int cmp_order(const void *pa, const void *pb)
{
	const struct order *a = pa, *b = pb;

	if (a->w != b->w)
		return a->w < b->w ? 1 : -1;
	return a->i < b->i ? -1 : a->i > b->i;
}

__u32 peers__fold(struct peers *p, void *keys, void *vals, __u32 n, size_t ksz, size_t vsz,
		  size_t nsum, __u64 (*weight)(const void *val))
{
	struct order *o = calloc((size_t)n + 1, sizeof(*o));
	__u32 *slot = NULL, nslots = 2 * n + 1, no = 0, out = 0;
	char *kc = keys, *vc = vals;

	if (!o)
		return n;	/* no memory: every peer shown this time */
	/* Flows seen for the first time, the larger first. */
	for (__u32 i = 0; i < n; i++)
		if (!find(&p->flows, (const struct ra_flow_key *)(kc + i * ksz), false))
			o[no++] = (struct order){ weight(vc + i * vsz), i };
	qsort(o, no, sizeof(*o), cmp_order);
	for (__u32 j = 0; j < no; j++)
		judge(p, (const struct ra_flow_key *)(kc + o[j].i * ksz));
	free(o);

	/* Fold, and merge folded entries with equal keys (slot: index + 1;
	 * without memory for it, every peer is shown this time). */
	slot = calloc(nslots, sizeof(*slot));
	for (__u32 i = 0; i < n; i++) {
		struct ra_flow_key *k = (struct ra_flow_key *)(kc + i * ksz);
		__u32 h;

		if (!slot || judge(p, k)) {
			if (out != i) {
				memcpy(kc + out * ksz, k, ksz);
				memcpy(vc + out * vsz, vc + i * vsz, vsz);
			}
			out++;
			continue;
		}
		memcpy(k->peer, PEERS_OTHER, sizeof(k->peer));
		for (h = fnv(k, ksz) % nslots; slot[h]; h = (h + 1) % nslots)
			if (!memcmp(kc + (slot[h] - 1) * ksz, k, ksz))
				break;
		if (slot[h]) {
			__u64 *sum = (__u64 *)(vc + (slot[h] - 1) * vsz);
			const __u64 *add = (const __u64 *)(vc + i * vsz);

			for (size_t w = 0; w < nsum; w++)
				sum[w] += add[w];
			continue;
		}
		if (out != i) {
			memcpy(kc + out * ksz, k, ksz);
			memcpy(vc + out * vsz, vc + i * vsz, vsz);
		}
		slot[h] = ++out;
	}
	free(slot);
	return out;
}
