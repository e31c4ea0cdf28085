/* Unit tests for src/upcall/ukey.c: the state machine, install and
 * replace-on-evicted, a locked ukey never waited on, lookup, remove, the
 * per-partition sweep, and concurrent installs of the same keys from
 * several threads (exactly one wins per key).  Freed ukeys go through an
 * RCU grace period; the teardown waits for it (rcu_wait_postponed()). */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "classifier/classifier.h"
#include "datapath/dp-actions.h"
#include "flow/flow.h"
#include "lib/atomic.h"
#include "lib/rcu.h"
#include "lib/util.h"
#include "unit-rcu.h"
#include "upcall/ukey.h"

/* Megaflow on in_port and tp_dst. */
static void
make_match(struct match *m, uint32_t in_port, uint16_t tp_dst)
{
    match_init_catchall(m);
    m->flow.in_port = in_port;
    m->wc.masks.in_port = UINT32_MAX;
    m->flow.tp_dst = htons(tp_dst);
    m->wc.masks.tp_dst = UINT16_MAX;
}

static struct ukey *
make_ukey(uint32_t in_port, uint16_t tp_dst)
{
    struct dp_actions *drop = dp_actions_create_drop();
    struct match m;
    struct ukey *ukey;

    make_match(&m, in_port, tp_dst);
    ukey = ukey_create(&m, drop, NULL, 1);
    dp_actions_unref(drop);
    return ukey;
}

static void
advance(struct ukey *ukey, enum ukey_state state)
{
    ukey_lock(ukey);
    ukey_set_state(ukey, state);
    ukey_unlock(ukey);
}

static void
test_ukey_duplicate_is_refused_while_live(void **state)
{
    struct ukey_map *map = ukey_map_create();
    struct ukey *a = make_ukey(1, 80), *b = make_ukey(1, 80);
    struct ukey *c = make_ukey(1, 81);
    bool replaced;

    (void)state;
    assert_int_equal(ukey_get_state(a), UKEY_CREATED);
    assert_true(dp_ufid_equal(&a->ufid, &b->ufid));
    assert_int_equal(ukey_install(map, a, &replaced), 0);
    assert_false(replaced);
    /* CREATED, VISIBLE, OPERATIONAL, EVICTING: all refuse. */
    for (enum ukey_state s = UKEY_CREATED; s <= UKEY_EVICTING; s++) {
        advance(a, s);
        assert_int_equal(ukey_install(map, b, &replaced), EEXIST);
        assert_false(replaced);
    }
    assert_int_equal(ukey_install(map, c, &replaced), 0);
    assert_int_equal(ukey_map_count(map), 2);
    ukey_destroy(b);
    ukey_map_destroy(map);
}

/* A ukey made from a normalized match and its ufid is the same ukey as
 * one made from the match alone: same ufid and hash, so the map refuses
 * the second of the two. */
static void
test_ukey_created_with_its_ufid_equals_one_from_the_match(void **state)
{
    struct dp_actions *drop = dp_actions_create_drop();
    struct ukey_map *map = ukey_map_create();
    struct ukey *a = make_ukey(4, 8080), *b;
    struct match m, ma, mb;
    struct dp_ufid ufid;
    bool replaced;

    (void)state;
    make_match(&m, 4, 8080);
    dp_flow_ufid(&m, &ufid);
    b = ukey_create_ufid(&m, &ufid, drop, NULL, 1);
    assert_true(dp_ufid_equal(&a->ufid, &b->ufid));
    assert_int_equal(a->hash, b->hash);
    ukey_get_match(a, &ma);
    ukey_get_match(b, &mb);
    assert_true(match_equal(&ma, &mb));
    assert_true(match_equal(&ma, &m));
    assert_int_equal(ukey_install(map, a, &replaced), 0);
    assert_int_equal(ukey_install(map, b, &replaced), EEXIST);
    ukey_destroy(b);
    dp_actions_unref(drop);
    ukey_map_destroy(map);
}

static void
test_ukey_replaces_evicted_ukey(void **state)
{
    struct ukey_map *map = ukey_map_create();
    struct ukey *a = make_ukey(2, 443), *b = make_ukey(2, 443);
    struct match m;
    bool replaced;

    (void)state;
    assert_int_equal(ukey_install(map, a, &replaced), 0);
    advance(a, UKEY_VISIBLE);
    advance(a, UKEY_OPERATIONAL);
    advance(a, UKEY_EVICTING);
    advance(a, UKEY_EVICTED);

    rcu_read_begin();
    assert_int_equal(ukey_install(map, b, &replaced), 0);
    assert_true(replaced);
    /* 'a' is out of the map and DELETED, freed after the grace period. */
    assert_int_equal(ukey_get_state(a), UKEY_DELETED);
    ukey_get_match(b, &m);
    assert_ptr_equal(ukey_lookup(map, &b->ufid, &m), b);
    m.flow.tp_dst = htons(444); /* Same ufid, another megaflow: none. */
    assert_null(ukey_lookup(map, &b->ufid, &m));
    rcu_read_end();
    assert_int_equal(ukey_map_count(map), 1);
    ukey_map_destroy(map);
}

static void
test_ukey_locked_evicted_ukey_is_not_waited_on(void **state)
{
    struct ukey_map *map = ukey_map_create();
    struct ukey *a = make_ukey(3, 22), *b = make_ukey(3, 22);
    bool replaced;

    (void)state;
    assert_int_equal(ukey_install(map, a, &replaced), 0);
    advance(a, UKEY_EVICTED);
    ukey_lock(a); /* Someone (a revalidator) holds it. */
    assert_int_equal(ukey_install(map, b, &replaced), EEXIST);
    assert_false(ukey_trylock(a));
    ukey_unlock(a);
    assert_int_equal(ukey_install(map, b, &replaced), 0);
    assert_true(replaced);
    ukey_map_destroy(map);
}

static bool
sweep_evicted(struct ukey *ukey, void *aux)
{
    (void)aux;
    return ukey_get_state(ukey) == UKEY_EVICTED;
}

static void
test_ukey_lookup_remove_and_sweep(void **state)
{
    struct ukey_map *map = ukey_map_create();
    struct ukey *ukeys[200];
    size_t n_seen = 0;
    bool replaced;

    (void)state;
    for (int i = 0; i < 200; i++) {
        ukeys[i] = make_ukey(1, (uint16_t)i);
        assert_int_equal(ukey_install(map, ukeys[i], &replaced), 0);
        if (i % 2) {
            advance(ukeys[i], UKEY_EVICTED);
        }
    }
    assert_int_equal(ukey_map_count(map), 200);
    rcu_read_begin();
    for (int i = 0; i < 200; i++) {
        assert_ptr_equal(ukey_lookup(map, &ukeys[i]->ufid, NULL), ukeys[i]);
    }
    rcu_read_end();
    ukey_remove(map, ukeys[0]);
    assert_int_equal(ukey_map_count(map), 199);

    /* The sweep: drop the evicted ones, partition by partition. */
    for (unsigned int p = 0; p < UKEY_N_PARTITIONS; p++) {
        size_t before = ukey_map_partition_count(map, p);
        n_seen += before;
        ukey_map_sweep(map, p, sweep_evicted, NULL);
    }
    assert_int_equal(n_seen, 199);
    assert_int_equal(ukey_map_count(map), 99);
    ukey_map_destroy(map);
}

/* A storm of ukeys comes from the ukey pools; once they are removed and
 * their grace period has passed, a trim gives the memory back, and the
 * map is still usable afterwards. */
static void
test_ukey_memory_goes_back_after_a_storm(void **state)
{
    enum { N = 5000 };
    struct ukey_map *map = ukey_map_create();
    struct ukey **ukeys = xcalloc(N, sizeof *ukeys);
    struct ukey *again;
    bool replaced;

    (void)state;
    for (int i = 0; i < N; i++) {
        ukeys[i] = make_ukey((uint32_t)(1 + i / 60000), (uint16_t)(i % 60000));
        assert_int_equal(ukey_install(map, ukeys[i], &replaced), 0);
    }
    /* 5000 ukeys of about 200 bytes (a two-word megaflow): 1 MB. */
    assert_true(ukey_memory_bytes() >= 1000 * 1000);
    for (int i = 0; i < N; i++) {
        ukey_remove(map, ukeys[i]);
    }
    assert_int_equal(ukey_map_count(map), 0);
    rcu_wait_postponed(); /* The removed ukeys are freed. */
    /* Just emptied: an idle trim keeps the slabs, a full one does not. */
    assert_int_equal(ukey_trim_memory(60 * 1000), 0);
    assert_true(ukey_trim_memory(0) >= 1000 * 1000);
    assert_int_equal(ukey_memory_bytes(), 0);

    again = make_ukey(9, 9);
    assert_int_equal(ukey_install(map, again, &replaced), 0);
    assert_int_equal(ukey_map_count(map), 1);
    ukey_map_destroy(map);
    free(ukeys);
}

struct race {
    struct ukey_map *map;
    pthread_barrier_t barrier;
    unsigned int n_won; /* Atomic. */
};

static void *
race_main(void *r_)
{
    struct race *r = r_;

    rcu_thread_register();
    pthread_barrier_wait(&r->barrier);
    for (int i = 0; i < 1000; i++) {
        struct ukey *ukey = make_ukey(7, (uint16_t)i);
        bool replaced;

        if (!ukey_install(r->map, ukey, &replaced)) {
            atomic_add_fetch_relaxed(&r->n_won, 1);
            advance(ukey, UKEY_VISIBLE);
        } else {
            ukey_destroy(ukey);
        }
    }
    rcu_thread_unregister();
    return NULL;
}

static void
test_ukey_concurrent_installs_one_per_key(void **state)
{
    struct race r;
    pthread_t threads[4];

    (void)state;
    r.map = ukey_map_create();
    r.n_won = 0;
    pthread_barrier_init(&r.barrier, NULL, 4);
    for (int i = 0; i < 4; i++) {
        pthread_create(&threads[i], NULL, race_main, &r);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(threads[i], NULL);
    }
    assert_int_equal(r.n_won, 1000);
    assert_int_equal(ukey_map_count(r.map), 1000);
    pthread_barrier_destroy(&r.barrier);
    ukey_map_destroy(r.map);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ukey_duplicate_is_refused_while_live),
        cmocka_unit_test(test_ukey_replaces_evicted_ukey),
        cmocka_unit_test(test_ukey_locked_evicted_ukey_is_not_waited_on),
        cmocka_unit_test(test_ukey_lookup_remove_and_sweep),
        cmocka_unit_test(test_ukey_memory_goes_back_after_a_storm),
        cmocka_unit_test(
            test_ukey_created_with_its_ufid_equals_one_from_the_match),
        cmocka_unit_test(test_ukey_concurrent_installs_one_per_key),
    };

    return cmocka_run_group_tests(tests, unit_rcu_group_setup,
                                  unit_rcu_group_teardown);
}
