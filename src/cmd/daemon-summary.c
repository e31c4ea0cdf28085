/* cmd/daemon-summary.c — the progress line, the "settled" and "drained"
 * checks and the final summary of flowswitchd (see daemon.h).
 *
 * The summary ends with the accounting identities of DESIGN.md §4, checked
 * on the numbers it printed:
 *
 *   rx = hit + missed + lost + unparsable      (every packet the datapath
 *                                               took has one fate)
 *   missed + action upcalls = handled          (every upcall queued was
 *                                               handled by a handler)
 *
 * It prints them only once the switch has settled (daemon_settled()), so
 * that a violation is a bug, not a packet in flight. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cmd/daemon.h"
#include "datapath/datapath.h"
#include "lib/timeval.h"
#include "lib/util.h"
#include "netdev/netdev.h"
#include "ofproto/ofproto.h"
#include "upcall/upcall.h"

/* ---- Settling ----------------------------------------------------------- */

struct daemon_upcall_totals {
    uint64_t n_upcalls, n_batches, n_batches_dp, n_puts;
    size_t queue_len;
    uint64_t n_suppressed, n_gov_installed;
    unsigned int n_engaged;
};

/* Totals over every handler the daemon has run (upcall/set-handlers
 * replaces them), and how many of the current ones are engaged. */
static void
daemon_upcall_totals(struct daemon *d, struct daemon_upcall_totals *t)
{
    unsigned int n = upcall_n_handlers(d->udpif);
    struct upcall_totals ut;

    memset(t, 0, sizeof *t);
    upcall_get_totals(d->udpif, &ut);
    t->n_upcalls = ut.n_upcalls;
    t->n_batches = ut.n_batches;
    t->n_batches_dp = ut.n_batches_dp;
    t->n_puts = ut.n_puts;
    t->queue_len = ut.queue_len;
    t->n_suppressed = ut.n_gov_suppressed;
    t->n_gov_installed = ut.n_gov_installed;
    for (unsigned int i = 0; i < n; i++) {
        struct governor_info gi;

        if (!upcall_get_governor_info(d->udpif, i, &gi)) {
            t->n_engaged += gi.engaged;
        }
    }
}

void
daemon_settle_sample(struct daemon *d, struct daemon_settle *s)
{
    struct daemon_upcall_totals t;
    struct dp_stats st;

    /* Handlers first: a handler that finishes between the two reads makes
     * 'handled' look short, never long, so a settled sample is real. */
    daemon_upcall_totals(d, &t);
    dp_get_stats(d->dp, &st);
    memset(s, 0, sizeof *s);
    s->rx = st.n_rx;
    s->hit = st.n_hit;
    s->missed = st.n_missed;
    s->lost = st.n_lost;
    s->parse_drop = st.n_parse_drop;
    s->queued = st.n_missed + st.n_action_upcall + st.n_drain_upcall
                + st.n_recirc_upcall;
    s->handled = t.n_upcalls;
    s->queue_len = t.queue_len;
}

bool
daemon_settled(const struct daemon_settle *prev,
               const struct daemon_settle *now)
{
    return now->rx == now->hit + now->missed + now->lost + now->parse_drop
           && now->queued == now->handled && !now->queue_len
           && !memcmp(prev, now, sizeof *now);
}

bool
daemon_replay_ended(struct daemon *d)
{
    size_t n_replay = 0;

    for (size_t i = 0; i < d->n_ports; i++) {
        const struct daemon_port *port = d->ports[i];

        if (daemon_port_is_replay(port)) {
            if (!dp_port_rx_done(d->dp, port->dp_port)) {
                return false;
            }
            n_replay++;
        }
    }
    return n_replay > 0;
}

/* ---- Progress ----------------------------------------------------------- */

static double
percent(uint64_t part, uint64_t whole)
{
    return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

void
daemon_progress(struct daemon *d, FILE *out, bool tty)
{
    /* Main thread only. */
    static uint64_t last_rx, last_ms;
    struct daemon_upcall_totals t;
    uint64_t now = time_msec();
    struct dp_stats st;

    if (!last_ms) {
        last_ms = d->start_ms;
    }
    dp_get_stats(d->dp, &st);
    daemon_upcall_totals(d, &t);
    double secs = (double)(now - d->start_ms) / 1000.0;
    double kpps = now > last_ms
                      ? (double)(st.n_rx - last_rx) / (double)(now - last_ms)
                      : 0.0;

    fprintf(out,
            "%s%6.1fs  rx %" PRIu64 " pkts (%.1f kpps)  hit %.1f%%  "
            "flows %" PRIu64 "  upcalls %" PRIu64 "  lost %" PRIu64 "%s",
            tty ? "\r" : "", secs, st.n_rx, kpps,
            percent(st.n_hit, st.n_hit + st.n_missed + st.n_lost), st.n_flows,
            t.n_upcalls, st.n_lost, tty ? "\033[K" : "\n");
    fflush(out);
    last_rx = st.n_rx;
    last_ms = now;
}

/* ---- Summary ------------------------------------------------------------ */

static const char *
exit_reason_text(struct daemon *d)
{
    switch (daemon_exit_requested(d)) {
    case DAEMON_EXIT_DRAINED:
        return "replay finished";
    case DAEMON_EXIT_SIGNAL:
        return "stopped by a signal";
    case DAEMON_EXIT_COMMAND:
        return "stopped by the exit command";
    case DAEMON_RUNNING:
    default:
        return "running";
    }
}

static void
summary_ports(struct daemon *d, FILE *out)
{
    fprintf(out, "%-12s %6s %-8s %10s %8s %10s %8s %8s %6s\n", "port",
            "ofport", "type", "rx", "rx-drop", "tx", "tx-drop", "lost",
            "unpars");
    for (size_t i = 0; i < d->n_ports; i++) {
        const struct daemon_port *port = d->ports[i];
        struct dp_port_stats st;
        char ofport[16];

        if (dp_port_get_stats(d->dp, port->dp_port, &st)) {
            continue;
        }
        if (port->spec.ofport == OFPP_LOCAL) {
            snprintf(ofport, sizeof ofport, "LOCAL");
        } else {
            snprintf(ofport, sizeof ofport, "%" PRIu32, port->spec.ofport);
        }
        fprintf(out,
                "%-12s %6s %-8s %10" PRIu64 " %8" PRIu64 " %10" PRIu64
                " %8" PRIu64 " %8" PRIu64 " %6" PRIu64 "\n",
                port->spec.name, ofport, port->spec.type, st.netdev_rx_packets,
                st.netdev_rx_dropped + st.netdev_rx_errors,
                st.netdev_tx_packets,
                st.netdev_tx_dropped + st.netdev_tx_errors, st.lost,
                st.parse_drop);
    }
    if (d->removed.n) {
        const struct daemon_removed_ports *r = &d->removed;
        char name[32];

        snprintf(name, sizeof name, "(%zu removed)", r->n);
        fprintf(out,
                "%-12s %6s %-8s %10" PRIu64 " %8" PRIu64 " %10" PRIu64
                " %8" PRIu64 " %8" PRIu64 " %6" PRIu64 "\n",
                name, "-", "-", r->rx, r->rx_drop, r->tx, r->tx_drop, r->lost,
                r->parse_drop);
    }
}

static void
summary_cache(struct daemon *d, FILE *out, const struct dp_stats *st,
              const struct daemon_upcall_totals *t)
{
    struct upcall_revalidator_stats rs;
    uint64_t lookups = st->n_hit + st->n_missed + st->n_lost;

    upcall_get_revalidator_stats(d->udpif, &rs);
    fprintf(out, "cache\n");
    fprintf(out,
            "  lookups       %" PRIu64 ": hit %" PRIu64
            " (exact-match %" PRIu64 ", megaflow %" PRIu64 "), missed %" PRIu64
            ", lost %" PRIu64 "\n",
            lookups, st->n_hit, st->n_emc_hit, st->n_dpcls_hit, st->n_missed,
            st->n_lost);
    fprintf(out, "  hit rate      %.2f%%\n", percent(st->n_hit, lookups));
    if (st->n_lost) {
        fprintf(out,
                "  lost          queue full %" PRIu64 ", over a port's share "
                "%" PRIu64 ", no handler %" PRIu64 ", shutdown %" PRIu64 "\n",
                st->n_lost_queue_full, st->n_lost_port_share,
                st->n_lost_no_handler, st->n_lost_shutdown);
    }
    fprintf(out,
            "  upcalls       %" PRIu64 " handled in %" PRIu64
            " batches (%" PRIu64 " misses, %" PRIu64
            " action upcalls, %" PRIu64 " hits on draining flows)\n",
            t->n_upcalls, t->n_batches, st->n_missed, st->n_action_upcall,
            st->n_drain_upcall);
    fprintf(out,
            "  batches       %" PRIu64 " run by datapath threads, %" PRIu64
            " by handler threads (upcall mode %s)\n",
            t->n_batches_dp, t->n_batches - t->n_batches_dp,
            upcall_mode_to_string(upcall_get_mode(d->udpif)));
    fprintf(out,
            "  flows         installed %" PRIu64 ", expired %" PRIu64
            ", modified %" PRIu64 ", in the cache now %" PRIu64
            " (limit %zu)\n",
            t->n_puts, rs.n_deleted_total, rs.n_modified, st->n_flows,
            upcall_get_flow_limit(d->udpif));
    if (rs.n_deleted_total) {
        fprintf(out, "  expired by    ");
        const char *sep = "";
        for (int r = 0; r < UPCALL_N_DEL_REASONS; r++) {
            if (rs.n_deleted[r]) {
                fprintf(out, "%s%s %" PRIu64, sep,
                        upcall_del_reason_to_string(r), rs.n_deleted[r]);
                sep = ", ";
            }
        }
        fprintf(out, "\n");
    }
    fprintf(out,
            "  governor      %" PRIu64 " packets sent without an install, "
            "%" PRIu64 " installs allowed while engaged (engaged now in %u "
            "of %u handlers)\n",
            t->n_suppressed, t->n_gov_installed, t->n_engaged,
            upcall_n_handlers(d->udpif));
    fprintf(out,
            "  revalidators  %" PRIu64 " rounds, last dump %" PRIu64 " ms\n",
            rs.n_rounds, rs.last_dump_duration);
    fprintf(out,
            "  dropped       unparsable %" PRIu64 ", by drop actions %" PRIu64
            ", to missing ports %" PRIu64 ", by meters %" PRIu64
            ", recirculating %" PRIu64 "\n",
            st->n_parse_drop, st->n_drop_action, st->n_tx_no_port,
            st->n_meter_drop, st->n_recirc_drop);
}

static void
summary_conservation(FILE *out, const struct dp_stats *st,
                     const struct daemon_upcall_totals *t)
{
    bool rx_ok =
        st->n_rx == st->n_hit + st->n_missed + st->n_lost + st->n_parse_drop;
    bool up_ok = st->n_missed + st->n_action_upcall + st->n_drain_upcall
                     + st->n_recirc_upcall
                 == t->n_upcalls;

    fprintf(out, "conservation\n");
    fprintf(out,
            "  rx = hit + missed + lost + unparsable: %" PRIu64 " = %" PRIu64
            " + %" PRIu64 " + %" PRIu64 " + %" PRIu64 " (%s)\n",
            st->n_rx, st->n_hit, st->n_missed, st->n_lost, st->n_parse_drop,
            rx_ok ? "holds" : "VIOLATED");
    fprintf(out,
            "  missed + action upcalls + draining hits + recirculated "
            "misses = handled: %" PRIu64 " + %" PRIu64 " + %" PRIu64
            " + %" PRIu64 " = %" PRIu64 " (%s)\n",
            st->n_missed, st->n_action_upcall, st->n_drain_upcall,
            st->n_recirc_upcall, t->n_upcalls, up_ok ? "holds" : "VIOLATED");
}

void
daemon_summary(struct daemon *d, FILE *out)
{
    struct daemon_upcall_totals t;
    struct dp_stats st;
    bool any_capture = false;

    daemon_upcall_totals(d, &t);
    dp_get_stats(d->dp, &st);

    fprintf(out, "\nflowswitchd: %s after %.2f s\n\n", exit_reason_text(d),
            (double)(time_msec() - d->start_ms) / 1000.0);
    summary_ports(d, out);
    fprintf(out, "\n");
    summary_cache(d, out, &st, &t);
    fprintf(out, "\n");
    summary_conservation(out, &st, &t);

    for (size_t i = 0; i < d->n_ports; i++) {
        const struct daemon_port *port = d->ports[i];
        struct netdev_stats ns;

        if (!port->spec.tx_path) {
            continue;
        }
        if (!any_capture) {
            fprintf(out, "\noutput captures\n");
            any_capture = true;
        }
        netdev_get_stats(port->netdev, &ns);
        fprintf(out, "  %-12s %s (%" PRIu64 " packets)\n", port->spec.name,
                port->spec.tx_path, ns.tx_packets);
    }
    fflush(out);
}
