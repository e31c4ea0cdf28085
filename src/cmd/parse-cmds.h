/*
 * cmd/parse-cmds.h — the subcommands of flowswitch-parse, the offline tool
 * that runs flowswitch's parsers without a switch: frames from pcap files
 * into flow keys, and ovs-ofctl flow text into canonical form.
 *
 * Each takes the subcommand's own argc/argv (argv[0] is the subcommand name)
 * and returns the process exit status.
 */
#ifndef FLOWSWITCH_CMD_PARSE_CMDS_H
#define FLOWSWITCH_CMD_PARSE_CMDS_H 1

/* flowswitch-parse pcap [--json] [--in-port N] FILE... */
int parse_pcap_main(int argc, char *argv[]);
/* flowswitch-parse flows [--mode add|modify|delete] [--strict] [--style flow-mod|dump] FILE|- */
int parse_flows_main(int argc, char *argv[]);
/* flowswitch-parse match STRING */
int parse_match_main(int argc, char *argv[]);
/* flowswitch-parse actions STRING */
int parse_actions_main(int argc, char *argv[]);

#endif /* cmd/parse-cmds.h */
