/*
 * flow/actset.h — the OpenFlow 1.3 action set (OpenFlow 1.3.5 §5.10): what
 * it may hold and the order it runs in.
 *
 * A write_actions instruction writes its actions into the packet's action
 * set; clear_actions empties it; when the pipeline ends the set runs, in an
 * order fixed by the action types and not by the order they were written:
 *
 *   copy TTL inwards, pop, push-MPLS, push-PBB, push-VLAN, copy TTL
 *   outwards, decrement TTL, set-field, qos, group, output.
 *
 * Representation.  Like Open vSwitch, the set is kept as the plain list of
 * every action written since the last clear (struct ofpacts, appended to by
 * actset_write()); "an action replaces the one of the same type" is applied
 * when the set runs: actset_order() takes the last action of each type, in
 * the order of one table (actset.c) with one row per action type.  Rows of
 * kind "set" (set_field, load, move and the OpenFlow 1.0 rewrites) are one
 * class: all of them run, in the order written, so a later write of a field
 * wins.  Rows of kind "terminal" (group, output, resubmit, controller) are
 * exclusive: only the first present in table order runs (a group hides an
 * output, as OpenFlow says); with none of them the set does nothing at all,
 * since there is no point in rewriting a packet that goes nowhere (Open
 * vSwitch drops it the same way).
 *
 * A new action type joins the action set by adding its row to the table;
 * a type with no row is refused in write_actions (actset_allows()).
 *
 * Thread safety: pure functions on caller-owned lists.
 */
#ifndef FLOWSWITCH_FLOW_ACTSET_H
#define FLOWSWITCH_FLOW_ACTSET_H 1

#include <stdbool.h>

#include "flow/ofpact.h"

/* Whether an action of 'type' may be written into the action set. */
bool actset_allows(enum ofpact_type type);

/* Appends deep copies of the actions of 'actions' to the set 'set'. */
void actset_write(struct ofpacts *set, const struct ofpacts *actions);

/* Initializes 'out' with the actions the set 'set' runs, in the OpenFlow
 * order (see above).  'out' holds copies; the caller destroys it. */
void actset_order(const struct ofpacts *set, struct ofpacts *out);

#endif /* flow/actset.h */
