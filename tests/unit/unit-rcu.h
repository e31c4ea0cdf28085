/* tests/unit/unit-rcu.h — cmocka group fixtures for tests whose code under
 * test uses RCU's memb flavour (lib/rcu.h: classifier versions, ukeys,
 * postponed frees): the test thread is registered for the whole group, and
 * every postponed free has run before the group ends (so LeakSanitizer
 * sees none pending). */
#ifndef FLOWSWITCH_TESTS_UNIT_RCU_H
#define FLOWSWITCH_TESTS_UNIT_RCU_H 1

#include "lib/rcu.h"

static inline int
unit_rcu_group_setup(void **state)
{
    (void)state;
    rcu_thread_register();
    return 0;
}

static inline int
unit_rcu_group_teardown(void **state)
{
    (void)state;
    rcu_wait_postponed();
    rcu_thread_unregister();
    return 0;
}

#endif /* tests/unit/unit-rcu.h */
