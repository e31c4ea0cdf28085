/*
 * cmd/parse-flows.c — the "flows", "match" and "actions" subcommands of
 * flowswitch-parse: ovs-ofctl flow text in, canonical text out.
 *
 *   flowswitch-parse flows [--mode add|modify|delete] [--strict]
 *                          [--style flow-mod|dump] FILE|-
 *   flowswitch-parse match STRING
 *   flowswitch-parse actions STRING
 *
 * "flows" reads a file in the format of `ovs-ofctl add-flows` (one flow per
 * line; '#' starts a comment; blank lines are skipped; like ovs-ofctl there
 * is no line continuation) and prints each flow in canonical form, by
 * default as `ovs-ofctl parse-flows` prints it after "ADD ".  A file is
 * taken whole or not at all: every bad line is reported as
 * "FILE:LINE: <message>" on stderr, and if there is any, nothing is printed
 * on stdout and the exit status is 1.
 *
 * Exit status: 0 on success, 1 for bad flow text, 2 for bad usage or an
 * unreadable file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/parse-cmds.h"
#include "flow/flow-text.h"
#include "flow/ofpact.h"
#include "lib/dynamic-string.h"
#include "lib/util.h"

static int
flows_usage(void)
{
    fprintf(stderr, "usage: flowswitch-parse flows [--mode add|modify|delete] "
                    "[--strict] [--style flow-mod|dump] FILE|-\n");
    return 2;
}

/* Reads one line of 'stream' into 's' without its newline.  Returns false
 * at end of file. */
static bool
read_line(FILE *stream, struct ds *s)
{
    int c;

    /* Callers look at s->length before the text: an empty line leaves the
     * previous text in the buffer. */
    ds_clear(s);
    while ((c = getc(stream)) != EOF) {
        if (c == '\n') {
            return true;
        }
        ds_put_char(s, (char)c);
    }
    return s->length > 0;
}

/* Strips a '#' comment; returns true if anything but white space is left. */
static bool
strip_comment(struct ds *s)
{
    char *line = s->length ? s->string : NULL;
    char *hash;

    if (!line) {
        return false;
    }
    hash = strchr(line, '#');
    if (hash) {
        ds_truncate(s, (size_t)(hash - line));
    }
    return strspn(ds_cstr(s), " \t\r\n") < s->length;
}

int
parse_flows_main(int argc, char *argv[])
{
    enum flow_text_mode mode = FLOW_TEXT_ADD;
    enum flow_text_style style = FLOW_TEXT_STYLE_FLOW_MOD;
    bool strict = false;
    const char *file_name = NULL;

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];

        if (!strcmp(arg, "--mode") && i + 1 < argc) {
            const char *m = argv[++i];

            if (!strcmp(m, "add")) {
                mode = FLOW_TEXT_ADD;
            } else if (!strcmp(m, "modify")) {
                mode = FLOW_TEXT_MODIFY;
            } else if (!strcmp(m, "delete")) {
                mode = FLOW_TEXT_DELETE;
            } else {
                fprintf(stderr,
                        "flowswitch-parse: bad mode \"%s\" (expected add, "
                        "modify or delete)\n",
                        m);
                return 2;
            }
        } else if (!strcmp(arg, "--strict")) {
            strict = true;
        } else if (!strcmp(arg, "--style") && i + 1 < argc) {
            const char *st = argv[++i];

            if (!strcmp(st, "flow-mod")) {
                style = FLOW_TEXT_STYLE_FLOW_MOD;
            } else if (!strcmp(st, "dump")) {
                style = FLOW_TEXT_STYLE_DUMP;
            } else {
                fprintf(stderr,
                        "flowswitch-parse: bad style \"%s\" (expected "
                        "flow-mod or dump)\n",
                        st);
                return 2;
            }
        } else if ((arg[0] == '-' && arg[1]) || file_name) {
            return flows_usage();
        } else {
            file_name = arg;
        }
    }
    if (!file_name) {
        return flows_usage();
    }
    if (strict) {
        if (mode == FLOW_TEXT_MODIFY) {
            mode = FLOW_TEXT_MODIFY_STRICT;
        } else if (mode == FLOW_TEXT_DELETE) {
            mode = FLOW_TEXT_DELETE_STRICT;
        }
    }

    FILE *stream = strcmp(file_name, "-") ? fopen(file_name, "r") : stdin;

    if (!stream) {
        fprintf(stderr, "flowswitch-parse: %s: %s\n", file_name,
                strerror(errno));
        return 2;
    }

    struct ds line = DS_EMPTY_INITIALIZER;
    struct ds out = DS_EMPTY_INITIALIZER;
    unsigned int line_number = 0;
    unsigned int n_errors = 0;

    while (read_line(stream, &line)) {
        struct flow_text ft;
        char *error;

        line_number++;
        if (!strip_comment(&line)) {
            continue;
        }
        if (flow_text_parse(ds_cstr(&line), mode, &ft, &error)) {
            fprintf(stderr, "%s:%u: %s\n", file_name, line_number, error);
            free(error);
            n_errors++;
            continue;
        }
        flow_text_format(&ft, style, &out);
        ds_put_char(&out, '\n');
        flow_text_destroy(&ft);
    }
    if (ferror(stream)) {
        fprintf(stderr, "flowswitch-parse: %s: read error\n", file_name);
        n_errors++;
    }
    if (stream != stdin) {
        fclose(stream);
    }
    if (!n_errors && out.length) {
        fputs(ds_cstr(&out), stdout);
    }
    ds_destroy(&line);
    ds_destroy(&out);
    return n_errors ? 1 : 0;
}

int
parse_match_main(int argc, char *argv[])
{
    struct match match;
    struct ds s = DS_EMPTY_INITIALIZER;
    char *error;

    if (argc != 2) {
        fprintf(stderr, "usage: flowswitch-parse match STRING\n");
        return 2;
    }
    if (match_from_string(argv[1], &match, &error)) {
        fprintf(stderr, "%s\n", error);
        free(error);
        return 1;
    }
    match_format(&match, -1, &s);
    printf("%s\n", ds_cstr(&s));
    ds_destroy(&s);
    return 0;
}

int
parse_actions_main(int argc, char *argv[])
{
    struct ofpacts ofpacts;
    struct ds s = DS_EMPTY_INITIALIZER;
    char *error;

    if (argc != 2) {
        fprintf(stderr, "usage: flowswitch-parse actions STRING\n");
        return 2;
    }
    if (ofpacts_parse(argv[1], &ofpacts, &error)) {
        fprintf(stderr, "%s\n", error);
        free(error);
        return 1;
    }
    ofpacts_format(&ofpacts, &s);
    printf("%s\n", ds_cstr(&s));
    ofpacts_destroy(&ofpacts);
    ds_destroy(&s);
    return 0;
}
