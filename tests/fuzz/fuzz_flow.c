/* libFuzzer target for the flow language (flow/flow-text.h, ofpact.h).
 *
 * The input is one flow line.  It is parsed in every mode; whatever the
 * bytes, parsing must either fail with a one-line "flow: ..." message and
 * leave an empty flow behind, or succeed, in which case the canonical text
 * (dump style, the one that parses back) must parse again into an equal
 * flow and format to the same text.  The match and action parsers are
 * run alone on the input too, with the same round-trip invariant, and so
 * is the group-mod parser (ofproto/group.h: ovs-ofctl's add-group text,
 * selection methods included), whose errors start "group: ".  Any
 * violation aborts.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc \
 *       tests/fuzz/fuzz_flow.c src/flow/\*.c src/lib/\*.c -lxxhash \
 *       -lpthread -o fuzz_flow
 *   cp -r tests/fuzz/corpus/flow /tmp/flow-corpus
 *   ./fuzz_flow -max_total_time=300 /tmp/flow-corpus
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow/flow-text.h"
#include "flow/ofpact.h"
#include "lib/dynamic-string.h"
#include "ofproto/group.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(COND, TEXT)                                                     \
    do {                                                                      \
        if (!(COND)) {                                                        \
            fprintf(stderr,                                                   \
                    "fuzz_flow: invariant failed: %s (line %d)\n"             \
                    "  input: \"%s\"\n",                                      \
                    #COND, __LINE__, (TEXT));                                 \
            abort();                                                          \
        }                                                                     \
    } while (0)

/* An error is one line starting with "flow: " (the input itself is quoted
 * in it, so an input with a newline may carry it along). */
static void
check_error(const char *error, const char *input)
{
    CHECK(error != NULL, input);
    CHECK(!strncmp(error, "flow: ", 6), input);
    CHECK(strchr(input, '\n') || !strchr(error, '\n'), input);
}

static void
check_flow_line(const char *s, enum flow_text_mode mode)
{
    struct flow_text ft, back, empty;
    struct ds text = DS_EMPTY_INITIALIZER, text2 = DS_EMPTY_INITIALIZER;
    char *error = NULL;

    if (flow_text_parse(s, mode, &ft, &error)) {
        check_error(error, s);
        flow_text_init(&empty, mode);
        CHECK(flow_text_equal(&ft, &empty), s);
        CHECK(ft.ofpacts.acts == NULL, s);
        free(error);
        return;
    }
    CHECK(error == NULL, s);

    /* Both styles must format without trouble; the dump style parses. */
    flow_text_format(&ft, FLOW_TEXT_STYLE_FLOW_MOD, &text);
    ds_destroy(&text);
    flow_text_format(&ft, FLOW_TEXT_STYLE_DUMP, &text);
    if (flow_text_parse(ds_cstr(&text), mode, &back, &error)) {
        fprintf(stderr, "canonical text refused: %s\n  text: \"%s\"\n", error,
                ds_cstr(&text));
        CHECK(!"canonical text parses", s);
    }
    if (!flow_text_equal(&ft, &back)) {
        fprintf(stderr, "  text: \"%s\"\n", ds_cstr(&text));
        CHECK(flow_text_equal(&ft, &back), s);
    }
    flow_text_format(&back, FLOW_TEXT_STYLE_DUMP, &text2);
    CHECK(!strcmp(ds_cstr(&text), ds_cstr(&text2)), s);

    flow_text_destroy(&ft);
    flow_text_destroy(&back);
    ds_destroy(&text);
    ds_destroy(&text2);
}

static void
check_match(const char *s)
{
    struct match m, back;
    struct ds text = DS_EMPTY_INITIALIZER, text2 = DS_EMPTY_INITIALIZER;
    char *error = NULL;

    if (match_from_string(s, &m, &error)) {
        check_error(error, s);
        free(error);
        return;
    }
    match_format(&m, -1, &text);
    if (match_from_string(ds_cstr(&text), &back, &error)) {
        fprintf(stderr, "canonical match refused: %s\n", error);
        CHECK(!"canonical match parses", s);
    }
    CHECK(match_equal(&m, &back), s);
    match_format(&back, -1, &text2);
    CHECK(!strcmp(ds_cstr(&text), ds_cstr(&text2)), s);
    ds_destroy(&text);
    ds_destroy(&text2);
}

static void
check_actions(const char *s)
{
    struct ofpacts a, b;
    struct ds text = DS_EMPTY_INITIALIZER, text2 = DS_EMPTY_INITIALIZER;
    char *error = NULL;

    if (ofpacts_parse(s, &a, &error)) {
        check_error(error, s);
        CHECK(a.n == 0 && a.acts == NULL, s);
        free(error);
        return;
    }
    ofpacts_format(&a, &text);
    if (ofpacts_parse(ds_cstr(&text), &b, &error)) {
        fprintf(stderr, "canonical actions refused: %s\n", error);
        CHECK(!"canonical actions parse", s);
    }
    CHECK(ofpacts_equal(&a, &b), s);
    ofpacts_format(&b, &text2);
    CHECK(!strcmp(ds_cstr(&text), ds_cstr(&text2)), s);
    ofpacts_destroy(&a);
    ofpacts_destroy(&b);
    ds_destroy(&text);
    ds_destroy(&text2);
}

static void
check_group(const char *s, enum group_mod_command command)
{
    struct ds text = DS_EMPTY_INITIALIZER, text2 = DS_EMPTY_INITIALIZER;
    struct group_mod gm, back;
    char *error = NULL;

    if (group_mod_parse(s, command, &gm, &error)) {
        CHECK(error != NULL, s);
        CHECK(!strncmp(error, "group: ", 7), s);
        CHECK(strchr(s, '\n') || !strchr(error, '\n'), s);
        free(error);
        group_mod_destroy(&gm);
        return;
    }
    CHECK(error == NULL, s);
    group_format(&gm, &text);
    if (group_mod_parse(ds_cstr(&text), command, &back, &error)) {
        fprintf(stderr, "canonical group refused: %s\n  text: \"%s\"\n", error,
                ds_cstr(&text));
        CHECK(!"canonical group parses", s);
    }
    group_format(&back, &text2);
    if (strcmp(ds_cstr(&text), ds_cstr(&text2))) {
        fprintf(stderr, "  text:  \"%s\"\n  again: \"%s\"\n", ds_cstr(&text),
                ds_cstr(&text2));
        CHECK(!"the canonical group formats the same", s);
    }
    group_mod_destroy(&gm);
    group_mod_destroy(&back);
    ds_destroy(&text);
    ds_destroy(&text2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum flow_text_mode modes[] = {
        FLOW_TEXT_ADD,    FLOW_TEXT_MODIFY,        FLOW_TEXT_MODIFY_STRICT,
        FLOW_TEXT_DELETE, FLOW_TEXT_DELETE_STRICT,
    };
    char *s;

    if (size > 4096) {
        return 0;
    }
    s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';

    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        check_flow_line(s, modes[i]);
    }
    check_match(s);
    check_actions(s);
    check_group(s, GROUP_MOD_ADD);
    check_group(s, GROUP_MOD_DELETE);
    free(s);
    return 0;
}
