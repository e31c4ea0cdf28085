/*
 * flowswitch-parse — run flowswitch's parsers offline.
 *
 *   flowswitch-parse pcap [--json] [--in-port N] FILE...
 *   flowswitch-parse flows [--mode add|modify|delete] [--strict] [--style flow-mod|dump] FILE|-
 *   flowswitch-parse match STRING
 *   flowswitch-parse actions STRING
 *
 * The same code the switch uses parses the frames and flows, so this is how
 * an operator checks what flowswitch will make of a capture or a flow file
 * before loading it, and how the system tests reach the parsers.
 */
#include <stdio.h>
#include <string.h>

#include "cmd/parse-cmds.h"
#include "lib/util.h"

struct subcommand {
    const char *name;
    int (*main)(int argc, char *argv[]);
    const char *usage;
};

static const struct subcommand subcommands[] = {
    {"pcap", parse_pcap_main,
     "pcap [--json] [--in-port N] FILE...  summarize (or dump as JSON) the "
     "flow keys of a capture"},
    {"flows", parse_flows_main,
     "flows [--mode add|modify|delete] [--strict] [--style flow-mod|dump] "
     "FILE|-  print each flow of an "
     "ovs-ofctl flow file in canonical form"},
    {"match", parse_match_main,
     "match STRING  print a match in canonical form"},
    {"actions", parse_actions_main,
     "actions STRING  print an action list in canonical form"},
};

static void
usage(FILE *out)
{
    fprintf(out, "usage: flowswitch-parse COMMAND [ARG]...\ncommands:\n");
    for (size_t i = 0; i < ARRAY_SIZE(subcommands); i++) {
        fprintf(out, "  %s\n", subcommands[i].usage);
    }
}

int
main(int argc, char *argv[])
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < ARRAY_SIZE(subcommands); i++) {
        if (!strcmp(argv[1], subcommands[i].name)) {
            return subcommands[i].main(argc - 1, argv + 1);
        }
    }
    fprintf(stderr,
            "flowswitch-parse: unknown command \"%s\" (expected pcap, flows, "
            "match or actions)\n",
            argv[1]);
    return 2;
}
