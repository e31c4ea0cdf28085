/*
 * classifier/cls-rcu.h — private to src/classifier: how the classifier's
 * files publish and retire memory that readers traverse.
 *
 * Every pointer or counter that a reader may load while the writer changes
 * it goes through lib/atomic.h: atomic_load_acquire() pairs with
 * atomic_store_release(), so a reader that sees a pointer also sees
 * everything the writer wrote into the pointed-to object before publishing
 * it (lib/atomic.h says why these rather than liburcu's rcu_dereference()
 * and rcu_assign_pointer()).  Values that are self-contained (a version
 * number, a counter, a packed hash slot) use the relaxed forms.
 *
 * Memory that readers may still hold is handed to cls_postpone() or
 * cls_postpone_free(), which run after an RCU grace period (liburcu memb
 * flavour, urcu_memb_call_rcu()); the calling thread must be registered with
 * urcu_memb_register_thread() (liburcu requires it for call_rcu).  Under
 * ThreadSanitizer the classifier also tells TSan about the happens-before
 * edge that a grace period creates (see classifier.h, "Grace periods").
 *
 * Thread safety: cls_postpone() may be called from any registered thread,
 * inside or outside a read-side section.
 */
#ifndef FLOWSWITCH_CLASSIFIER_CLS_RCU_H
#define FLOWSWITCH_CLASSIFIER_CLS_RCU_H 1

/* Calls fn(arg) after a grace period, in liburcu's call_rcu thread. */
void cls_postpone(void (*fn)(void *), void *arg);

/* free(p) after a grace period.  'p' may be NULL. */
void cls_postpone_free(void *p);

#endif /* classifier/cls-rcu.h */
