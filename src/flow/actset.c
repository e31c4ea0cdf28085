/* flow/actset.c — the OpenFlow 1.3 action set's contents and order (see
 * actset.h). */
#include "flow/actset.h"

#include <stddef.h>

/* How the set treats the actions of one type. */
enum actset_take {
    ACTSET_LAST,     /* The last one written runs. */
    ACTSET_SET,      /* Every one of this class runs, in written order. */
    ACTSET_TERMINAL, /* The first type present in table order runs. */
};

struct actset_row {
    enum ofpact_type type;
    enum actset_take take;
};

/* The order of OpenFlow 1.3.5 §5.10, one row per action type.  Rows of
 * kind ACTSET_SET must stay together.  Types not here cannot be written
 * into an action set. */
static const struct actset_row actset_table[] = {
    /* Copy TTL inwards, pop. */
    {OFPACT_STRIP_VLAN, ACTSET_LAST},
    {OFPACT_POP_MPLS, ACTSET_LAST},
    /* Push-MPLS, push-PBB, push-VLAN. */
    {OFPACT_PUSH_MPLS, ACTSET_LAST},
    {OFPACT_PUSH_VLAN, ACTSET_LAST},
    /* Copy TTL outwards, decrement TTL. */
    {OFPACT_DEC_TTL, ACTSET_LAST},
    {OFPACT_DEC_MPLS_TTL, ACTSET_LAST},
    /* Set-field. */
    {OFPACT_SET_VLAN_VID, ACTSET_SET},
    {OFPACT_SET_VLAN_PCP, ACTSET_SET},
    {OFPACT_SET_ETH_SRC, ACTSET_SET},
    {OFPACT_SET_ETH_DST, ACTSET_SET},
    {OFPACT_SET_IPV4_SRC, ACTSET_SET},
    {OFPACT_SET_IPV4_DST, ACTSET_SET},
    {OFPACT_SET_IP_DSCP, ACTSET_SET},
    {OFPACT_SET_L4_SRC, ACTSET_SET},
    {OFPACT_SET_L4_DST, ACTSET_SET},
    {OFPACT_SET_FIELD, ACTSET_SET},
    {OFPACT_LOAD, ACTSET_SET},
    {OFPACT_MOVE, ACTSET_SET},
    {OFPACT_SET_MPLS_LABEL, ACTSET_SET},
    {OFPACT_SET_MPLS_TC, ACTSET_SET},
    {OFPACT_SET_MPLS_TTL, ACTSET_SET},
    {OFPACT_SET_IP_TTL, ACTSET_SET},
    /* QoS. */
    {OFPACT_SET_QUEUE, ACTSET_LAST},
    /* Group, else output; Open vSwitch also lets resubmit and, last,
     * controller end a set. */
    {OFPACT_GROUP, ACTSET_TERMINAL},
    {OFPACT_OUTPUT, ACTSET_TERMINAL},
    {OFPACT_RESUBMIT, ACTSET_TERMINAL},
    {OFPACT_CONTROLLER, ACTSET_TERMINAL},
};

#define ACTSET_N_ROWS (sizeof actset_table / sizeof actset_table[0])

static const struct actset_row *
actset_row_of(enum ofpact_type type)
{
    for (size_t i = 0; i < ACTSET_N_ROWS; i++) {
        if (actset_table[i].type == type) {
            return &actset_table[i];
        }
    }
    return NULL;
}

bool
actset_allows(enum ofpact_type type)
{
    return actset_row_of(type) != NULL;
}

void
actset_write(struct ofpacts *set, const struct ofpacts *actions)
{
    for (size_t i = 0; i < actions->n; i++) {
        ofpacts_put_copy(set, &actions->acts[i]);
    }
}

/* The last action of 'type' in 'set', or NULL. */
static const struct ofpact *
actset_last_of(const struct ofpacts *set, enum ofpact_type type)
{
    for (size_t i = set->n; i-- > 0;) {
        if (set->acts[i].type == type) {
            return &set->acts[i];
        }
    }
    return NULL;
}

static bool
actset_is_set_class(enum ofpact_type type)
{
    const struct actset_row *row = actset_row_of(type);

    return row && row->take == ACTSET_SET;
}

/* The terminal action that runs, or NULL if none is in the set. */
static const struct ofpact *
actset_terminal(const struct ofpacts *set)
{
    for (size_t i = 0; i < ACTSET_N_ROWS; i++) {
        if (actset_table[i].take == ACTSET_TERMINAL) {
            const struct ofpact *a = actset_last_of(set, actset_table[i].type);

            if (a) {
                return a;
            }
        }
    }
    return NULL;
}

void
actset_order(const struct ofpacts *set, struct ofpacts *out)
{
    const struct ofpact *terminal = actset_terminal(set);
    bool set_class_done = false;

    ofpacts_init(out);
    if (!terminal) {
        return;
    }
    for (size_t i = 0; i < ACTSET_N_ROWS; i++) {
        const struct actset_row *row = &actset_table[i];
        const struct ofpact *a;

        if (row->take == ACTSET_LAST) {
            a = actset_last_of(set, row->type);
            if (a) {
                ofpacts_put_copy(out, a);
            }
        } else if (row->take == ACTSET_SET && !set_class_done) {
            set_class_done = true;
            for (size_t j = 0; j < set->n; j++) {
                if (actset_is_set_class(set->acts[j].type)) {
                    ofpacts_put_copy(out, &set->acts[j]);
                }
            }
        }
    }
    ofpacts_put_copy(out, terminal);
}
