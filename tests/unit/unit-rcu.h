/* tests/unit/unit-rcu.h — cmocka group fixtures for tests whose code under
 * test uses liburcu (classifier versions, ukeys, postponed frees): the test
 * thread is an RCU reader for the whole group, and every postponed free
 * has run before the group ends (so LeakSanitizer sees none pending). */
#ifndef FLOWSWITCH_TESTS_UNIT_RCU_H
#define FLOWSWITCH_TESTS_UNIT_RCU_H 1

#include <urcu/urcu-memb.h>

static inline int
unit_rcu_group_setup(void **state)
{
    (void)state;
    urcu_memb_register_thread();
    return 0;
}

static inline int
unit_rcu_group_teardown(void **state)
{
    (void)state;
    urcu_memb_barrier();
    urcu_memb_unregister_thread();
    return 0;
}

#endif /* tests/unit/unit-rcu.h */
