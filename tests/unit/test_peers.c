// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_peers.c - the peer budget: the first max_peers peers of a process
 * keep their rows (the larger first among those first seen together), the
 * others are summed into one peer="other" row per key, and a verdict never
 * changes, so every exported counter stays monotonic. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "peers.h"

struct val {
	__u64 bytes, conns;
	__u64 not_summed;
};

static __u64 weight(const void *v)
{
	return ((const struct val *)v)->bytes;
}

static struct ra_flow_key key(__u64 cgroup, __u8 peer)
{
	struct ra_flow_key k = { .cgroup_id = cgroup, .port = 6443, .role = RA_ROLE_SERVER };

	k.peer[15] = peer;
	return k;
}

static __u32 fold(struct peers *p, struct ra_flow_key *k, struct val *v, __u32 n)
{
	return peers__fold(p, k, v, n, sizeof(*k), sizeof(*v), 2, weight);
}

static void test_budget_and_merge(void **state)
{
	struct peers *p = peers__new(2, 64);
	struct ra_flow_key k[5] = { key(1, 1), key(1, 2), key(1, 3), key(1, 4), key(2, 1) };
	struct val v[5] = { { 10, 1, 7 }, { 30, 1, 7 }, { 20, 1, 7 }, { 5, 2, 7 }, { 1, 1, 7 } };
	struct ra_flow_key other;
	__u32 n;

	assert_non_null(p);
	n = fold(p, k, v, 5);
	/* cgroup 1: peers 2 and 3 (the larger) keep theirs; 1 and 4 are summed. */
	assert_int_equal(n, 4);
	other = key(1, 0);
	memcpy(other.peer, PEERS_OTHER, sizeof(other.peer));
	assert_memory_equal(&k[0], &other, sizeof(k[0]));
	assert_int_equal(v[0].bytes, 15);
	assert_int_equal(v[0].conns, 3);
	assert_int_equal(v[0].not_summed, 7);
	assert_int_equal(k[1].peer[15], 2);
	assert_int_equal(k[2].peer[15], 3);
	assert_int_equal(k[3].cgroup_id, 2);	/* another process: a budget of its own */
	peers__free(p);
}

static void test_verdict_kept(void **state)
{
	struct peers *p = peers__new(1, 64);
	struct ra_flow_key k[2] = { key(1, 1), key(1, 2) };
	struct val v[2] = { { 1, 1, 0 }, { 100, 1, 0 } };

	/* Peer 1 comes first and keeps its row, though peer 2 grows larger. */
	assert_int_equal(fold(p, k, v, 1), 1);
	assert_int_equal(k[0].peer[15], 1);
	k[0] = key(1, 1);
	assert_int_equal(fold(p, k, v, 2), 2);
	assert_int_equal(k[0].peer[15], 1);
	assert_int_equal(k[1].peer[0], 0xff);
	assert_int_equal(v[1].bytes, 100);
	peers__free(p);
}

static void test_full_table_folds(void **state)
{
	struct peers *p = peers__new(10, 1);	/* room to remember one flow */
	struct ra_flow_key k[2] = { key(1, 1), key(1, 2) };
	struct val v[2] = { { 2, 1, 0 }, { 1, 1, 0 } };

	assert_int_equal(fold(p, k, v, 2), 2);
	assert_int_equal(k[0].peer[15], 1);
	assert_int_equal(k[1].peer[0], 0xff);	/* not remembered: folded, now and later */
	k[1] = key(1, 2);
	assert_int_equal(fold(p, k, v, 2), 2);
	assert_int_equal(k[1].peer[0], 0xff);
	peers__free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_budget_and_merge),
		cmocka_unit_test(test_verdict_kept),
		cmocka_unit_test(test_full_table_folds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
