/* Unit tests for src/datapath/dp-meter: token bucket arithmetic with a
 * fake clock (exactly how many packets pass for a rate, a burst and a
 * time), kbps counting the frame's bytes, the highest exceeded band
 * applying, dscp_remark raising an AF drop precedence (checksum kept
 * valid), and exact statistics. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>

#include "datapath/dp-meter.h"
#include "flow/flow.h"
#include "flow/packet-parse.h"
#include "packet/packet.h"

#define MS 1000000ULL /* Nanoseconds. */
#define T0 (1000 * MS)

/* An Ethernet/IPv4/UDP frame of 'len' bytes with TOS 'tos' and a valid
 * IPv4 header checksum. */
static struct dp_packet *
make_ipv4(size_t len, uint8_t tos)
{
    uint8_t f[1500];
    uint32_t sum = 0;

    memset(f, 0, sizeof f);
    memset(f, 0x02, 12);
    f[12] = 0x08;
    f[14] = 0x45;
    f[15] = tos;
    f[16] = (uint8_t)((len - 14) >> 8);
    f[17] = (uint8_t)(len - 14);
    f[22] = 64;
    f[23] = 17;
    f[26] = 10, f[29] = 1, f[30] = 10, f[33] = 2;
    f[38] = (uint8_t)((len - 34) >> 8);
    f[39] = (uint8_t)(len - 34);
    for (int i = 14; i < 34; i += 2) {
        sum += (uint32_t)(f[i] << 8 | f[i + 1]);
    }
    sum = (sum & 0xffff) + (sum >> 16);
    sum = ~((sum & 0xffff) + (sum >> 16)) & 0xffff;
    f[24] = (uint8_t)(sum >> 8);
    f[25] = (uint8_t)sum;

    struct dp_packet *pkt = dp_packet_new_from_bytes(f, len, 0);
    struct flow flow;

    packet_parse(pkt, &flow);
    return pkt;
}

static bool
ipv4_csum_ok(const struct dp_packet *pkt)
{
    const uint8_t *ip = dp_packet_l3(pkt);
    uint32_t sum = 0;

    for (int i = 0; i < 20; i += 2) {
        sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return sum == 0xffff;
}

/* Runs 'n' packets of 'len' bytes through meter 0 at 'now' (one batch);
 * returns how many passed and frees them all. */
static size_t
run(struct dp_meters *m, size_t n, size_t len, uint64_t now)
{
    struct dp_packet_batch batch;
    bool drop[PACKET_BATCH_MAX];
    size_t n_drop;

    assert_true(n <= PACKET_BATCH_MAX);
    batch.count = (unsigned int)n;
    for (size_t i = 0; i < n; i++) {
        batch.packets[i] = make_ipv4(len, 0);
    }
    n_drop = dp_meters_run(m, 0, &batch, now, drop);
    for (size_t i = 0; i < n; i++) {
        dp_packet_delete(batch.packets[i]);
    }
    return n - n_drop;
}

static struct dp_meters *
meters_with(bool kbps, uint32_t rate, uint32_t burst)
{
    struct dp_meters *m = dp_meters_create(NULL, NULL);
    struct dp_meter_config cfg = {.kbps = kbps, .n_bands = 1};

    cfg.bands[0].type = DP_METER_BAND_DROP;
    cfg.bands[0].rate = rate;
    cfg.bands[0].burst = burst;
    assert_int_equal(dp_meters_set(m, 0, &cfg, T0), 0);
    return m;
}

static void
test_pktps_bucket_starts_full_and_refills_at_the_rate(void **state)
{
    (void)state;
    /* 100 packets/s, burst 10: 10 pass at once, then one per 10 ms. */
    struct dp_meters *m = meters_with(false, 100, 10);

    assert_int_equal(run(m, 32, 60, T0), 10);
    assert_int_equal(run(m, 32, 60, T0), 0);
    assert_int_equal(run(m, 32, 60, T0 + 9 * MS), 0);
    assert_int_equal(run(m, 32, 60, T0 + 10 * MS), 1);
    /* 250 ms later: 25 packets' worth, but the bucket holds 10. */
    assert_int_equal(run(m, 32, 60, T0 + 260 * MS), 10);
    /* 55 ms: 5.5 packets; the half stays for later. */
    assert_int_equal(run(m, 32, 60, T0 + 315 * MS), 5);
    assert_int_equal(run(m, 32, 60, T0 + 320 * MS), 1);
    dp_meters_destroy(m);
}

static void
test_burst_defaults_to_the_rate(void **state)
{
    (void)state;
    struct dp_meters *m = meters_with(false, 7, 0);

    assert_int_equal(run(m, 32, 60, T0), 7);
    assert_int_equal(run(m, 32, 60, T0 + 1000 * MS), 7);
    dp_meters_destroy(m);
}

static void
test_a_clock_going_back_adds_nothing(void **state)
{
    (void)state;
    struct dp_meters *m = meters_with(false, 1000, 1);

    assert_int_equal(run(m, 4, 60, T0 + 5 * MS), 1);
    assert_int_equal(run(m, 4, 60, T0 + 2 * MS), 0);
    assert_int_equal(run(m, 4, 60, T0 + 6 * MS), 1);
    dp_meters_destroy(m);
}

static void
test_kbps_counts_the_frame_bytes(void **state)
{
    (void)state;
    /* 80 kbit/s = 10 000 bytes/s; burst 8 kbit = 1000 bytes: ten 100-byte
     * frames, then one per 10 ms. */
    struct dp_meters *m = meters_with(true, 80, 8);

    assert_int_equal(run(m, 32, 100, T0), 10);
    assert_int_equal(run(m, 32, 100, T0 + 10 * MS), 1);
    /* 50 ms: 500 bytes, two 200-byte frames (100 bytes left over). */
    assert_int_equal(run(m, 32, 200, T0 + 60 * MS), 2);
    assert_int_equal(run(m, 32, 200, T0 + 70 * MS), 1);
    dp_meters_destroy(m);
}

static void
test_stats_count_every_packet_and_each_band_its_own(void **state)
{
    (void)state;
    struct dp_meters *m = meters_with(false, 100, 10);
    struct dp_meter_stats st;

    assert_int_equal(run(m, 30, 60, T0), 10);
    assert_int_equal(run(m, 5, 70, T0 + 20 * MS), 2);
    assert_true(dp_meters_get_stats(m, 0, &st));
    assert_int_equal(st.packets_in, 35);
    assert_int_equal(st.bytes_in, 30 * 60 + 5 * 70);
    assert_int_equal(st.n_bands, 1);
    assert_int_equal(st.band_packets[0], 20 + 3);
    assert_int_equal(st.band_bytes[0], 20 * 60 + 3 * 70);
    assert_false(dp_meters_get_stats(m, 1, &st));
    dp_meters_destroy(m);
}

static void
test_the_highest_exceeded_band_applies(void **state)
{
    (void)state;
    /* A dscp_remark band at 10 pkt/s and a drop band at 20 pkt/s: of 30
     * packets, 10 pass untouched, 10 exceed only the remark band, 10
     * exceed both and are dropped (the drop band's rate is higher). */
    struct dp_meters *m = dp_meters_create(NULL, NULL);
    struct dp_meter_config cfg = {.kbps = false, .n_bands = 2};
    struct dp_packet_batch batch;
    bool drop[PACKET_BATCH_MAX];
    struct dp_meter_stats st;

    cfg.bands[0] = (struct dp_meter_band_config){
        .type = DP_METER_BAND_DSCP_REMARK, .rate = 10, .prec_level = 1};
    cfg.bands[1] =
        (struct dp_meter_band_config){.type = DP_METER_BAND_DROP, .rate = 20};
    assert_int_equal(dp_meters_set(m, 0, &cfg, T0), 0);
    batch.count = 30;
    for (size_t i = 0; i < 30; i++) {
        batch.packets[i] = make_ipv4(60, 0x28); /* AF11: DSCP 10. */
    }
    assert_int_equal(dp_meters_run(m, 0, &batch, T0, drop), 10);
    for (size_t i = 0; i < 30; i++) {
        const uint8_t *ip = dp_packet_l3(batch.packets[i]);

        assert_int_equal(drop[i], i >= 20);
        /* AF11 -> AF12 (DSCP 12, TOS 0x30) for the remarked ones; the
         * dropped ones are left as they were. */
        assert_int_equal(ip[1], i >= 10 && i < 20 ? 0x30 : 0x28);
        assert_true(ipv4_csum_ok(batch.packets[i]));
        dp_packet_delete(batch.packets[i]);
    }
    assert_true(dp_meters_get_stats(m, 0, &st));
    assert_int_equal(st.packets_in, 30);
    assert_int_equal(st.band_packets[0], 10);
    assert_int_equal(st.band_packets[1], 10);
    dp_meters_destroy(m);
}

static void
test_remark_raises_af_precedence_up_to_three_only(void **state)
{
    (void)state;
    struct dp_meters *m = dp_meters_create(NULL, NULL);
    struct dp_meter_config cfg = {.kbps = false, .n_bands = 1};
    /* AF12 -> AF13 -> AF13 (capped); EF (46) and CS0 untouched. */
    static const uint8_t tos_in[] = {0x30, 0x38, 0xb8, 0x00, 0x31};
    static const uint8_t tos_out[] = {0x38, 0x38, 0xb8, 0x00, 0x39};
    struct dp_packet_batch batch;
    bool drop[PACKET_BATCH_MAX];

    cfg.bands[0] =
        (struct dp_meter_band_config){.type = DP_METER_BAND_DSCP_REMARK,
                                      .rate = 1,
                                      .burst = 1,
                                      .prec_level = 2};
    assert_int_equal(dp_meters_set(m, 0, &cfg, T0), 0);
    assert_int_equal(run(m, 1, 60, T0), 1); /* Empties the bucket. */
    batch.count = 5;
    for (size_t i = 0; i < 5; i++) {
        batch.packets[i] = make_ipv4(60, tos_in[i]);
    }
    assert_int_equal(dp_meters_run(m, 0, &batch, T0, drop), 0);
    for (size_t i = 0; i < 5; i++) {
        const uint8_t *ip = dp_packet_l3(batch.packets[i]);

        assert_int_equal(ip[1], tos_out[i]);
        assert_true(ipv4_csum_ok(batch.packets[i]));
        dp_packet_delete(batch.packets[i]);
    }
    dp_meters_destroy(m);
}

static void
test_set_refuses_bad_configs_and_missing_meters_pass(void **state)
{
    (void)state;
    struct dp_meters *m = dp_meters_create(NULL, NULL);
    struct dp_meter_config cfg = {.kbps = false, .n_bands = 1};

    cfg.bands[0].rate = 0;
    assert_int_equal(dp_meters_set(m, 0, &cfg, T0), EINVAL);
    cfg.bands[0].rate = 1;
    assert_int_equal(dp_meters_set(m, DP_METER_MAX, &cfg, T0), ERANGE);
    cfg.n_bands = DP_METER_MAX_BANDS + 1;
    assert_int_equal(dp_meters_set(m, 0, &cfg, T0), EINVAL);
    /* No meter 0: everything passes. */
    assert_int_equal(run(m, 8, 60, T0), 8);
    cfg.n_bands = 1;
    assert_int_equal(dp_meters_set(m, 0, &cfg, T0), 0);
    assert_int_equal(run(m, 8, 60, T0), 1);
    dp_meters_del(m, 0);
    assert_int_equal(run(m, 8, 60, T0), 8);
    dp_meters_destroy(m);
}

/* Two threads meter the same meter with one fake clock, as two datapath
 * threads do: every interval is credited once and every token taken once,
 * so what passes is exactly the burst plus the rate over the time, and the
 * statistics count every packet (TSan checks the lock-free updates). */
#define CONC_STEPS 2000
#define CONC_BATCH 8

struct conc_arg {
    struct dp_meters *m;
    size_t passed;
};

static void *
conc_thread(void *arg_)
{
    struct conc_arg *arg = arg_;

    for (uint64_t step = 0; step < CONC_STEPS; step++) {
        arg->passed += run(arg->m, CONC_BATCH, 60, T0 + step * MS);
    }
    return NULL;
}

static void
test_concurrent_threads_share_the_buckets_exactly(void **state)
{
    (void)state;
    /* 1000 packets/s: one packet per millisecond step; burst 100. */
    struct dp_meters *m = meters_with(false, 1000, 100);
    struct conc_arg args[2] = {{m, 0}, {m, 0}};
    struct dp_meter_stats st;
    pthread_t threads[2];

    for (int i = 0; i < 2; i++) {
        assert_int_equal(
            pthread_create(&threads[i], NULL, conc_thread, &args[i]), 0);
    }
    for (int i = 0; i < 2; i++) {
        pthread_join(threads[i], NULL);
    }
    assert_int_equal(args[0].passed + args[1].passed, 100 + (CONC_STEPS - 1));
    assert_true(dp_meters_get_stats(m, 0, &st));
    assert_int_equal(st.packets_in, 2 * CONC_STEPS * CONC_BATCH);
    assert_int_equal(st.band_packets[0],
                     st.packets_in - 100 - (CONC_STEPS - 1));
    dp_meters_destroy(m);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            test_pktps_bucket_starts_full_and_refills_at_the_rate),
        cmocka_unit_test(test_burst_defaults_to_the_rate),
        cmocka_unit_test(test_a_clock_going_back_adds_nothing),
        cmocka_unit_test(test_kbps_counts_the_frame_bytes),
        cmocka_unit_test(test_stats_count_every_packet_and_each_band_its_own),
        cmocka_unit_test(test_the_highest_exceeded_band_applies),
        cmocka_unit_test(test_remark_raises_af_precedence_up_to_three_only),
        cmocka_unit_test(test_set_refuses_bad_configs_and_missing_meters_pass),
        cmocka_unit_test(test_concurrent_threads_share_the_buckets_exactly),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
