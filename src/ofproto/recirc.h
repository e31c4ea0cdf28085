/*
 * ofproto/recirc.h — the frozen translation states behind recirc(N).
 *
 * When a pop_mpls exposes an L3 header (or the next entry of an MPLS
 * stack) the datapath never parsed and a later action, table or select
 * group needs it, translation freezes (ofproto/xlate.c):
 * it ends the datapath actions with recirc(N) and stores here, under N,
 * what the rest of the pipeline needs — the bridge, the actions still to
 * run (the frozen rule's rest first, then the rest of each rule that
 * resubmitted to it), the action set, the table and cookie of each of
 * those rules, and the metadata, registers and tunnel id that the packet does not
 * carry.  The datapath parses the packet again and looks it up with
 * recirc_id N; a miss translates from the state (xlate_actions() with
 * flow.recirc_id N), as Open vSwitch's frozen_state does.
 *
 * Ids: recirc_state_get() returns the id of an identical state if there
 * is one (so that a revalidation that freezes the same state keeps the
 * same datapath actions), else a new id: ids count up from 1 and are not
 * reused until they wrap.  Each get takes a reference; the xlate caches
 * of the megaflows whose actions carry recirc(N) hold them, so a state
 * lives as long as a megaflow can send packets to it.  A state whose last
 * reference goes stays findable for RECIRC_EXPIRE_MS more (packets
 * recirculated by an execute with no megaflow, e.g. under the flow limit,
 * may be upcalled after the translation that froze it is gone); then it is
 * freed, and a packet still carrying its id is dropped by translation
 * (coverage xlate_recirc_missing).
 *
 * Thread safety: every function may be called from any thread; one mutex
 * guards the table.  recirc_state_find() returns a reference, so a state
 * never goes away under its reader.
 */
#ifndef FLOWSWITCH_OFPROTO_RECIRC_H
#define FLOWSWITCH_OFPROTO_RECIRC_H 1

#include <stddef.h>
#include <stdint.h>

#include "flow/flow.h"
#include "flow/ofpact.h"

struct ofproto;

#define RECIRC_EXPIRE_MS 3000

/* The frozen actions come from a stack of rules: the one that froze, then
 * each that resubmitted to it.  A segment says in which table, under
 * which rule cookie, the actions from 'start' on run (Open vSwitch's
 * "unroll" action); segment 0 starts at 0.  The continuation runs each
 * with the packet's own in_port, as Open vSwitch's does, whatever in_port
 * a resubmit gave the rule that froze. */
#define RECIRC_MAX_SEGMENTS 16
struct recirc_segment {
    size_t start;
    uint8_t table_id;
    uint64_t cookie; /* 0 for none. */
};

struct recirc_state {
    const struct ofproto *ofproto; /* Bridge that froze it (not a ref). */
    struct ofpacts ofpacts;        /* Actions still to run. */
    struct ofpacts action_set;     /* The action set when it froze. */
    struct recirc_segment segments[RECIRC_MAX_SEGMENTS]; /* Unused: 0. */
    size_t n_segments;                                   /* At least 1. */
    bool in_action_set; /* Froze while the action set ran. */
    uint64_t metadata;
    be64 tunnel_id;
    uint32_t regs[FLOW_N_REGS];
};

/* The id of a state equal to 'state' (whose ofpacts the table copies),
 * with one more reference. */
uint32_t recirc_state_get(const struct recirc_state *state);
/* One more reference to 'id', which must be live. */
void recirc_state_ref(uint32_t id);
void recirc_state_unref(uint32_t id);
/* The state of 'id' with a reference (recirc_state_unref() it), or NULL
 * if there is none. */
const struct recirc_state *recirc_state_find(uint32_t id);
/* States in the table, expiring ones included (for tests). */
size_t recirc_state_count(void);

#endif
