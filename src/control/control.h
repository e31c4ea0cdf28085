/*
 * control/control.h — the control socket: commands an operator runs against
 * a live switch (`upcall/show`, `dpctl/dump-flows`, `revalidator/wait`...).
 *
 * Wire protocol.  The same as Open vSwitch's unixctl, so that Debian's
 * `ovs-appctl -t SOCKET COMMAND [ARG...]` works against flowswitchd
 * unchanged: JSON-RPC 1.0 over a Unix stream socket, one JSON object per
 * message, messages simply concatenated (no length prefix, no newline
 * needed).  A request is {"id":ID,"method":"COMMAND","params":["ARG",...]};
 * the reply is {"id":ID,"result":"TEXT","error":null} on success or
 * {"id":ID,"error":"TEXT"} on failure, where TEXT is what the command prints
 * (ending in a newline by convention).  JSON is read and written with
 * jansson; framing (finding where one object ends in the byte stream) is
 * done here, with a size limit per message.
 *
 * Commands.  A process registers commands once, globally, with
 * control_command_register(): a name, a usage string for list-commands, the
 * accepted argument counts and a callback.  `list-commands` and `version`
 * are built in.  Argument-count errors and unknown commands are answered
 * with Open vSwitch's wording, so scripts written for ovs-appctl behave the
 * same.
 *
 * Server.  control_server_create() binds the socket (mode 0660; the
 * directory must exist; a symbolic link, a file that is not a socket or
 * another user's socket at the path is refused, never replaced) and
 * serves it from a thread of its own, so a busy
 * datapath or handler never delays an operator and vice versa.  Callbacks
 * run in that thread, one at a time.  A callback answers with
 * control_reply() or control_reply_error(), either before it returns or
 * later from any thread (a deferred reply: `revalidator/wait` answers when
 * the next round has finished); the connection is kept alive by the pending
 * request until the reply is sent.  Requests on one connection are answered
 * in order.  Malformed input gets one error reply (with a null id when its
 * id cannot be known: bad JSON, a message too long) and closes the
 * connection; every such refusal is counted (`control_*`
 * coverage counters).  A client that shuts its sending side down still
 * gets the replies to every complete request it sent.  What clients can
 * make the server hold is bounded: CONTROL_MAX_CONNECTIONS connections
 * (one more is refused with an error reply), CONTROL_MAX_MESSAGE bytes of
 * input and one request in flight per connection, and replies the client
 * does not read stop the server from reading more requests from it
 * (CONTROL_OUTPUT_HIGH_WATER).
 *
 * Thread safety: control_command_register() may be called from any thread
 * at any time; control_reply*() from any thread, exactly once per request;
 * control_server_create()/destroy() from the thread that owns the server.
 */
#ifndef FLOWSWITCH_CONTROL_CONTROL_H
#define FLOWSWITCH_CONTROL_CONTROL_H 1

#include <stdbool.h>
#include <stddef.h>

#define CONTROL_MAX_MESSAGE ((size_t)1024 * 1024)
/* Connections served at once; one more is refused (control_conn_refused). */
#define CONTROL_MAX_CONNECTIONS 128
/* Unread reply bytes above which a connection's next request waits. */
#define CONTROL_OUTPUT_HIGH_WATER ((size_t)256 * 1024)

struct control_server;
struct control_conn; /* One pending request on a connection. */

/* Handles one request.  'argv[0]' is the command name, 'argv[1..argc-1]' its
 * arguments (min_args <= argc - 1 <= max_args is already checked). */
typedef void control_cb(struct control_conn *, int argc, const char *argv[],
                        void *aux);

/* Registers 'name' (replacing an existing registration).  'usage' is shown
 * by list-commands after the name, e.g. "[-m] [DP]". */
void control_command_register(const char *name, const char *usage,
                              int min_args, int max_args, control_cb *cb,
                              void *aux);
void control_command_unregister(const char *name);

/* The text `version` prints, e.g. "flowswitchd (flowswitch) 0.1.0\n". */
void control_set_version(const char *program_name);

/* Answers a request: 'body' is the text the client prints. */
void control_reply(struct control_conn *, const char *body);
void control_reply_error(struct control_conn *, const char *body);

/* Binds 'path' and starts serving it.  Returns 0, or an errno value with a
 * one-line '*errorp' for the caller to free.  An existing socket file at
 * 'path' that nobody listens on is replaced; one that answers is not. */
int control_server_create(const char *path, struct control_server **,
                          char **errorp);
/* Stops serving, closes every connection (pending requests are answered
 * with an error) and removes the socket file. */
void control_server_destroy(struct control_server *);
const char *control_server_get_path(const struct control_server *);

/* The default socket: $FLOWSWITCH_RUNDIR/flowswitchd.ctl, where the rundir
 * defaults to /run/flowswitch for root and $XDG_RUNTIME_DIR/flowswitch
 * (or /tmp/flowswitch-UID) otherwise.  Caller frees. */
char *control_default_rundir(void);
char *control_default_socket_path(void);
/* Creates run directory 'dir' with mode 0750 (whatever the umask), or
 * checks that the existing one is a directory (not a symbolic link) that
 * this user owns.  Returns 0, or an errno value with one line in
 * '*errorp'. */
int control_prepare_rundir(const char *dir, char **errorp);

/* Client side: connects to 'path', runs 'argv[0]' with arguments
 * 'argv[1..argc-1]', and waits up to 'timeout_ms' (0: forever) for the
 * reply.  Returns 0 when the server answered: '*resultp' (success) or
 * '*errorp' (the command failed) is set and the other is NULL.  Returns an
 * errno value when it could not talk to the server, with '*errorp' set to a
 * one-line description.  The caller frees both strings. */
int control_transact(const char *path, int argc, const char *argv[],
                     int timeout_ms, char **resultp, char **errorp);

#endif /* control/control.h */
