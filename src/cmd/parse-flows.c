/*
 * cmd/parse-flows.c — the "flows", "match" and "actions" subcommands of
 * flowswitch-parse: ovs-ofctl flow text in, canonical text out.
 *
 *   flowswitch-parse flows [--mode add|modify|delete] [--strict]
 *                          [--style flow-mod|dump] FILE|-
 *   flowswitch-parse match STRING
 *   flowswitch-parse actions STRING
 *
 * "flows" reads a flow file with flow_text_parse_file(), as flowswitchd
 * reads --flows and add-flows (flow/flow-text.h: one flow per line, '#'
 * comments, blank lines skipped, no line continuation; in add mode a line
 * may start with a command word such as modify_strict), and prints each
 * flow in canonical form, by default as `ovs-ofctl parse-flows` prints it
 * after "ADD ", after its command word if it has one other than the file's
 * mode.  A file is taken whole or not at all: every bad line is reported
 * as "FILE:LINE: <message>" on stderr, and if there is any, nothing is
 * printed on stdout and the exit status is 1.
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

/* What `flowswitch-parse flows` was asked to do. */
struct parse_flows_args {
    enum flow_text_mode mode;
    bool strict;
    enum flow_text_style style;
    const char *file_name; /* "-": standard input. */
};

/* Parses the value of --mode.  Returns false (after one line on stderr)
 * if it is not one. */
static bool
parse_flows_mode(const char *word, enum flow_text_mode *mode)
{
    if (!strcmp(word, "add")) {
        *mode = FLOW_TEXT_ADD;
    } else if (!strcmp(word, "modify")) {
        *mode = FLOW_TEXT_MODIFY;
    } else if (!strcmp(word, "delete")) {
        *mode = FLOW_TEXT_DELETE;
    } else {
        fprintf(stderr,
                "flowswitch-parse: bad mode \"%s\" (expected add, modify "
                "or delete)\n",
                word);
        return false;
    }
    return true;
}

/* Parses the value of --style.  Returns false (after one line on stderr)
 * if it is not one. */
static bool
parse_flows_style(const char *word, enum flow_text_style *style)
{
    if (!strcmp(word, "flow-mod")) {
        *style = FLOW_TEXT_STYLE_FLOW_MOD;
    } else if (!strcmp(word, "dump")) {
        *style = FLOW_TEXT_STYLE_DUMP;
    } else {
        fprintf(stderr,
                "flowswitch-parse: bad style \"%s\" (expected flow-mod or "
                "dump)\n",
                word);
        return false;
    }
    return true;
}

/* The mode of the file's lines: --mode, made strict by --strict. */
static enum flow_text_mode
parse_flows_file_mode(const struct parse_flows_args *args)
{
    if (args->strict && args->mode == FLOW_TEXT_MODIFY) {
        return FLOW_TEXT_MODIFY_STRICT;
    }
    if (args->strict && args->mode == FLOW_TEXT_DELETE) {
        return FLOW_TEXT_DELETE_STRICT;
    }
    return args->mode;
}

/* Parses the command line into 'args'.  Returns 0, or the exit status of
 * bad usage. */
static int
parse_flows_args(int argc, char *argv[], struct parse_flows_args *args)
{
    *args = (struct parse_flows_args){.mode = FLOW_TEXT_ADD,
                                      .style = FLOW_TEXT_STYLE_FLOW_MOD};
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];

        if (!strcmp(arg, "--mode") && i + 1 < argc) {
            if (!parse_flows_mode(argv[++i], &args->mode)) {
                return 2;
            }
        } else if (!strcmp(arg, "--strict")) {
            args->strict = true;
        } else if (!strcmp(arg, "--style") && i + 1 < argc) {
            if (!parse_flows_style(argv[++i], &args->style)) {
                return 2;
            }
        } else if ((arg[0] == '-' && arg[1]) || args->file_name) {
            return flows_usage();
        } else {
            args->file_name = arg;
        }
    }
    return args->file_name ? 0 : flows_usage();
}

/* Appends every flow of 'file' in 'style', one per line; a flow whose
 * command word changed its mode from the file's 'mode' keeps the word in
 * front ("delete" alone, every flow, has no text after it), so that the
 * output reads back as the same file. */
static void
parse_flows_format(const struct flow_text_file *file, enum flow_text_mode mode,
                   enum flow_text_style style, struct ds *out)
{
    struct ds text = DS_EMPTY_INITIALIZER;

    for (size_t i = 0; i < file->n_flows; i++) {
        const struct flow_text *ft = &file->flows[i];

        ds_clear(&text);
        flow_text_format(ft, style, &text);
        if (ft->mode != mode) {
            ds_put_format(out, "%s%s", flow_text_mode_keyword(ft->mode),
                          text.length ? " " : "");
        }
        ds_put_format(out, "%s\n", ds_cstr(&text));
    }
    ds_destroy(&text);
}

/* Parses the flows of 'stream' and prints them, or every error.  Returns
 * the exit status. */
static int
parse_flows_stream(FILE *stream, const struct parse_flows_args *args)
{
    struct flow_text_file_options options = {
        .mode = parse_flows_file_mode(args),
    };
    struct flow_text_file file;
    int error = flow_text_parse_file(stream, args->file_name, &options, &file);

    for (size_t i = 0; i < file.n_errors; i++) {
        fprintf(stderr, "%s\n", file.errors[i]);
    }
    if (error == EIO) {
        fprintf(stderr, "flowswitch-parse: %s: read error\n", args->file_name);
    }
    if (!error) {
        struct ds out = DS_EMPTY_INITIALIZER;

        parse_flows_format(&file, options.mode, args->style, &out);
        fputs(ds_cstr(&out), stdout);
        ds_destroy(&out);
    }
    flow_text_file_destroy(&file);
    return error ? 1 : 0;
}

int
parse_flows_main(int argc, char *argv[])
{
    struct parse_flows_args args;
    int status = parse_flows_args(argc, argv, &args);

    if (status) {
        return status;
    }

    bool is_stdin = !strcmp(args.file_name, "-");
    FILE *stream = is_stdin ? stdin : fopen(args.file_name, "r");

    if (!stream) {
        fprintf(stderr, "flowswitch-parse: %s: %s\n", args.file_name,
                strerror(errno));
        return 2;
    }
    status = parse_flows_stream(stream, &args);
    if (!is_stdin) {
        fclose(stream);
    }
    return status;
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
