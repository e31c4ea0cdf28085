"""System tests of the ovs-ofctl flow syntax through flowswitch-parse.

Run with: FLOWSWITCH_BUILD=build /usr/bin/python3 -m pytest tests/system

(a) data/flows-corpus.txt holds flow lines covering every field, keyword and
    action the language knows; flowswitch-parse must print, for each, exactly
    the text Open vSwitch 3.1 prints.  That text is in
    data/flows-corpus.expected, one line per corpus flow (comments and blank
    lines do not count).  It was produced ONCE, offline, by running this file
    as a script on a machine with Open vSwitch 3.1's ovs-ofctl:

        /usr/bin/python3 tests/system/test_flow_syntax.py --regenerate

    which runs, for every corpus line on its own, `ovs-ofctl [OPTION]
    parse-flows FILE` and keeps the text after "...FLOW_MOD (...): ADD ".
    OPTION is "-F nxm" (NXM matches encode every match exactly and keep the
    OpenFlow 1.0 + Nicira action forms such as mod_vlan_vid and load),
    except for lines that use OpenFlow 1.1+ instructions or set_field
    (goto_table, write_metadata, set_field, push_vlan): those need
    "-O OpenFlow15" to be printed as written, and lines with importance or
    the OpenFlow 1.3 flags need "-O OpenFlow14".  The tests never run
    ovs-ofctl.

(b) data/flows-errors.txt holds lines that flowswitch refuses, each followed
    by the exact one-line error expected.  Some of them Open vSwitch accepts
    and silently changes (it drops "tp_dst=80" without "tcp", truncates
    "dl_vlan=4096", outputs to port 0): flowswitch refuses those on purpose.
    A bad line gives one line on stderr, nothing on stdout, exit status 1.

(c) flowswitch-parse flows and flowswitchd (--flows, add-flows) read flow
    files with the same function, flow_text_parse_file(): each file of
    FLOW_FILES is accepted by both or refused by both with the same
    "FILE:LINE: ..." line.
"""

import os
import re
import subprocess
import sys
import tempfile

import pytest

from daemon_util import Daemon, build_path, daemon_env

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")
CORPUS = os.path.join(DATA, "flows-corpus.txt")
EXPECTED = os.path.join(DATA, "flows-corpus.expected")
ERRORS = os.path.join(DATA, "flows-errors.txt")


def parse_tool():
    build = os.environ.get("FLOWSWITCH_BUILD", "build")
    if not os.path.isabs(build):
        build = os.path.join(HERE, "..", "..", build)
    return os.path.join(build, "flowswitch-parse")


def run(args, stdin=None):
    return subprocess.run([parse_tool()] + args, input=stdin,
                          capture_output=True, text=True, timeout=60)


def corpus_lines():
    """The flow lines of the corpus, without comments and blank lines."""
    lines = []
    with open(CORPUS) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.split("#", 1)[0].strip():
                lines.append(line)
    return lines


def expected_lines():
    with open(EXPECTED) as f:
        return [line.rstrip("\n") for line in f]


def error_cases():
    """(line, expected error) pairs of the error corpus.

    The file alternates "< FLOW LINE" and "> EXPECTED ERROR" lines."""
    cases = []
    flow = None
    with open(ERRORS) as f:
        for raw in f:
            raw = raw.rstrip("\n")
            if raw.startswith("< "):
                flow = raw[2:]
            elif raw.startswith("> "):
                assert flow is not None, raw
                cases.append((flow, raw[2:]))
                flow = None
    return cases


@pytest.fixture(scope="module", autouse=True)
def tool_exists():
    if not os.access(parse_tool(), os.X_OK):
        pytest.fail("%s not built (set FLOWSWITCH_BUILD)" % parse_tool())


# --- (a) the corpus matches OVS 3.1 -----------------------------------------

def test_corpus_is_large_and_aligned_with_expected():
    lines = corpus_lines()
    assert len(lines) >= 150
    assert len(lines) == len(expected_lines())


def test_corpus_prints_exactly_what_ovs_prints():
    result = run(["flows", CORPUS])
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    got = result.stdout.splitlines()
    want = expected_lines()
    lines = corpus_lines()
    mismatches = ["%s\n   got: %s\n  want: %s" % (l, g, w)
                  for l, g, w in zip(lines, got, want) if g != w]
    assert not mismatches, "\n".join(mismatches)
    assert len(got) == len(want)


def test_corpus_lines_print_the_same_one_at_a_time():
    # Lines are independent: parsing one alone gives its line of the file.
    lines = corpus_lines()
    want = expected_lines()
    for i in range(0, len(lines), 37):
        result = run(["flows", "-"], stdin=lines[i] + "\n")
        assert result.returncode == 0, result.stderr
        assert result.stdout == want[i] + "\n"


def test_canonical_text_is_a_fixed_point_in_dump_style():
    # The dump style parses back, and formatting what it gives changes
    # nothing.
    first = run(["flows", "--style", "dump", CORPUS])
    assert first.returncode == 0, first.stderr
    second = run(["flows", "--style", "dump", "-"], stdin=first.stdout)
    assert second.returncode == 0, second.stderr
    assert second.stdout == first.stdout
    flow_mod = run(["flows", "-"], stdin=first.stdout)
    assert flow_mod.stdout == "\n".join(expected_lines()) + "\n"


def test_dump_style_prints_keywords_as_dump_flows_does():
    result = run(["flows", "--style", "dump", "-"],
                 stdin="table=3,priority=7,cookie=0x10,idle_timeout=5,"
                       "hard_timeout=6,send_flow_rem,tcp actions=drop\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ("cookie=0x10, table=3, idle_timeout=5, "
                             "hard_timeout=6, send_flow_rem "
                             "priority=7,tcp actions=drop\n")


# --- (b) bad input -----------------------------------------------------------

def test_error_corpus_is_not_empty():
    assert len(error_cases()) >= 40


@pytest.mark.parametrize("line,message", error_cases())
def test_bad_line_gives_one_error_line_and_nothing_on_stdout(line, message):
    result = run(["flows", "-"], stdin=line + "\n")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == "-:1: %s\n" % message


def test_one_bad_line_refuses_the_whole_file_and_reports_every_error():
    text = "tcp,tp_dst=80 actions=drop\ntp_dst=80 actions=drop\n" \
           "# comment\n\nip actions=output:0\nudp actions=drop\n"
    with tempfile.NamedTemporaryFile("w", suffix=".flows") as f:
        f.write(text)
        f.flush()
        result = run(["flows", f.name])
    assert result.returncode == 1
    assert result.stdout == ""
    errors = result.stderr.splitlines()
    assert len(errors) == 2
    assert errors[0].startswith(f.name + ":2: flow: tp_dst requires")
    assert errors[1].startswith(f.name + ":5: flow: port 0 is not a valid")


def test_comments_blank_lines_and_crlf_are_skipped():
    result = run(["flows", "-"],
                 stdin="  # only a comment\n\n\t\ntcp actions=drop # note\r\n"
                       "udp actions=output:1\r\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "tcp actions=drop\nudp actions=output:1\n"


def test_backslash_does_not_continue_a_line_as_in_ovs():
    result = run(["flows", "-"], stdin="tcp,tp_dst=80 \\\n actions=drop\n")
    assert result.returncode == 1
    assert result.stderr.startswith("-:1: flow: missing actions")


def test_delete_mode_takes_cookie_masks_and_out_port():
    result = run(["flows", "--mode", "delete", "-"],
                 stdin="tcp,cookie=0x1/0xff,out_port=2\ntable=0\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "tcp cookie:0x1/0xff out_port:2\ntable:0\n"


def test_delete_mode_refuses_actions_and_priority():
    result = run(["flows", "--mode", "delete", "-"],
                 stdin="tcp actions=drop\npriority=5,tcp\n")
    assert result.returncode == 1
    assert result.stdout == ""
    errors = result.stderr.splitlines()
    assert errors == [
        '-:1: flow: actions are not allowed when deleting flows in '
        '"tcp actions=drop" (a flow to delete takes only a match)',
        '-:2: flow: priority is not allowed when deleting flows in '
        '"priority=5" (only a strict delete looks at priorities)',
    ]


def test_strict_delete_takes_priority():
    result = run(["flows", "--mode", "delete", "--strict", "-"],
                 stdin="priority=5,tcp\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "priority=5,tcp\n"


def test_modify_mode_may_set_or_match_cookies():
    result = run(["flows", "--mode", "modify", "--style", "dump", "-"],
                 stdin="cookie=0x5,cookie=0x1/0x3,ip actions=drop\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ("cookie=0x5, cookie=0x1/0x3, ip actions=drop\n")


def test_match_and_actions_subcommands():
    result = run(["match", "tcp,nw_src=10.1.2.3/16,tp_dst=80"])
    assert (result.returncode, result.stdout) == \
        (0, "tcp,nw_src=10.1.0.0/16,tp_dst=80\n")
    result = run(["actions", "local,mod_vlan_vid:5,note:01"])
    assert (result.returncode, result.stdout) == \
        (0, "LOCAL,mod_vlan_vid:5,note:01.00.00.00.00.00\n")
    result = run(["actions", ""])
    assert (result.returncode, result.stdout) == (0, "drop\n")


def test_bad_match_and_actions_give_one_error_line():
    result = run(["match", "nw_dts=10.0.0.1"])
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == ('flow: bad field "nw_dts" in "nw_dts=10.0.0.1" '
                             '(did you mean nw_dst?)\n')
    result = run(["actions", "outptu:1"])
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == ('flow: unknown action "outptu" in "outptu:1" '
                             '(did you mean output?)\n')


def test_usage_errors_exit_with_status_2():
    assert run(["flows"]).returncode == 2
    assert run(["flows", "--mode", "sideways", "x"]).returncode == 2
    assert run(["flows", "/nonexistent/flows.txt"]).returncode == 2
    assert run(["match"]).returncode == 2


# --- (c) one flow-file reader for flowswitch-parse and flowswitchd -----------

# (name, file text, None if accepted, else (line, start of the message)).
# As `ovs-ofctl add-flows`: '#' comments, blank and CR-only lines skipped,
# a command word ended by white space or a comma, no line continuation.
FLOW_FILES = [
    ("comments-blanks-crlf",
     "  # only a comment\n\n\t\r\ntcp actions=drop # note\r\n"
     "udp actions=output:1\r\n", None),
    ("command-words",
     "priority=7,ip,nw_dst=10.9.9.9,actions=drop\n"
     "modify_strict priority=7,ip,nw_dst=10.9.9.9,actions=output:2\n"
     "\tadd\tpriority=8,ip,actions=drop\n"
     "modify,ip,actions=output:1\n"
     "delete_strict priority=8,ip\n"
     "delete\n", None),
    ("backslash-continues-nothing",
     "tcp,tp_dst=80 \\\n actions=drop\n", (1, "flow: missing actions")),
    ("abbreviated-command-word",
     "ip actions=drop\nmod ip,actions=output:1\n",
     (2, 'flow: bad field "mod"')),
    ("capital-command-word",
     "ip actions=drop\nMODIFY ip,actions=output:1\n",
     (2, 'flow: bad field "MODIFY"')),
    ("delete-takes-no-actions",
     "delete tcp actions=drop\n", (1, "flow: actions are not allowed")),
    ("bad-field-after-comments",
     "# comment\npriority=1,actions=drop\n\n"
     "priority=2,nw_dts=10.0.0.1,actions=drop\n",
     (4, 'flow: bad field "nw_dts"')),
]


@pytest.fixture(scope="module")
def switch(tmp_path_factory):
    d = Daemon("--port", "p1,type=memory",
               tmpdir=str(tmp_path_factory.mktemp("switch")))
    d.start()
    yield d
    assert d.stop() == 0, d.stderr


@pytest.mark.parametrize("name,text,refusal", FLOW_FILES,
                         ids=[f[0] for f in FLOW_FILES])
def test_parse_tool_and_daemon_accept_and_refuse_the_same_files(
        switch, tmp_path, name, text, refusal):
    path = tmp_path / (name + ".flows")
    path.write_text(text, newline="")
    parsed = run(["flows", str(path)])
    added = switch.ctl_run("add-flows", str(path), check=False)
    if refusal is None:
        assert parsed.returncode == 0, parsed.stderr
        assert added.returncode == 0, added.stderr
        return
    line, message = refusal
    first = f"{path}:{line}: {message}"
    assert parsed.returncode == 1 and parsed.stdout == ""
    assert parsed.stderr.startswith(first), parsed.stderr
    error = parsed.stderr.splitlines()[0]
    assert added.returncode == 2
    assert error in added.stderr
    # At start-up too: one line, the same one.
    started = subprocess.run(
        [build_path("flowswitchd"), "--ctl", str(tmp_path / "ctl"),
         "--flows", str(path)],
        capture_output=True, text=True, env=daemon_env(), timeout=60)
    assert started.returncode == 1
    assert started.stderr == f"flowswitchd: {error}\n"


def test_parse_tool_prints_command_words_so_the_output_reads_back():
    text = ("ip,priority=7,actions=drop\n"
            "modify,ip,actions=output:1\n"
            "modify_strict priority=7,ip,actions=output:2 # x\n"
            "  delete\n"
            "delete_strict priority=7,ip\n"
            "add tcp actions=drop\n")
    want = ("priority=7,ip actions=drop\n"
            "modify ip actions=output:1\n"
            "modify_strict priority=7,ip actions=output:2\n"
            "delete\n"
            "delete_strict priority=7,ip\n"
            "tcp actions=drop\n")
    result = run(["flows", "-"], stdin=text)
    assert (result.returncode, result.stdout) == (0, want), result.stderr
    again = run(["flows", "-"], stdin=result.stdout)
    assert (again.returncode, again.stdout) == (0, want), again.stderr


def test_command_words_belong_to_add_files_only():
    result = run(["flows", "--mode", "modify", "-"],
                 stdin="modify ip,actions=output:1\n")
    assert result.returncode == 1
    assert result.stderr.startswith('-:1: flow: bad field "modify"')


# --- regeneration of the expected file (needs ovs-ofctl; never run by tests)

def ovs_options(line):
    if re.search(r"goto_table|write_metadata|set_field|push_vlan", line):
        return ["-O", "OpenFlow15"]
    if re.search(r"importance|reset_counts|no_packet_counts|no_byte_counts",
                 line):
        return ["-O", "OpenFlow14"]
    return ["-F", "nxm"]


def ovs_parse(line):
    with tempfile.NamedTemporaryFile("w", suffix=".flows") as f:
        f.write(line + "\n")
        f.flush()
        result = subprocess.run(["ovs-ofctl"] + ovs_options(line) +
                                ["parse-flows", f.name],
                                capture_output=True, text=True)
    for out in result.stdout.splitlines():
        m = re.match(r"^\S+ \(.*xid=0x[0-9a-f]+\): ADD (.*)$", out)
        if m:
            return m.group(1)
    raise RuntimeError("ovs-ofctl refused %r: %s%s"
                       % (line, result.stdout, result.stderr))


def regenerate_expected():
    out = [ovs_parse(line) for line in corpus_lines()]
    with open(EXPECTED, "w") as f:
        f.write("\n".join(out) + "\n")
    print("wrote %d lines to %s" % (len(out), EXPECTED))


if __name__ == "__main__":
    if sys.argv[1:] == ["--regenerate"]:
        regenerate_expected()
    else:
        sys.exit("usage: %s --regenerate" % sys.argv[0])
