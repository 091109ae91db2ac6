"""`help CMD` and the line editor's keys, typed over the console.
help CMD prints, for every command, the usage and the text that
user/commands.c holds and README.md's tables show (checked here too, by
tools/commands_table.py); help alone and help CMD fit 80 columns; a
command that does not exist gets an error. The editor's keys edit the line
that then runs; Ctrl-L and clear redraw with nothing dropped; unknown
escape sequences are counted, not inserted."""
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
sys.path.insert(0, os.path.join(ROOT, "tools"))
from columns import check_fits  # noqa: E402
from guest import Guest, check  # noqa: E402
import commands_table  # noqa: E402  tools/commands_table.py

CLEAR = "\x1b[H\x1b[2J"


def plain(text):
    """What help prints of a README text: no backquotes, no bold marks,
    {Section} as (README: Section)."""
    text = re.sub(r"\{([^{}]*)\}", r"(README: \1)", text)
    return text.replace("`", "").replace("**", "")


def unwrap(out):
    """help CMD's output as {label: text}, its wrapped lines joined."""
    fields, label = {}, None
    for line in out.replace("\r", "").splitlines():
        m = re.match(r"^(usage|in short|the talk's claim|measures|shows): (.*)$", line)
        if m:
            label = m.group(1)
            fields[label] = m.group(2)
        elif line.startswith("  ") and label:
            fields[label] += " " + line.strip()
    return fields


def test_readme_tables_match_the_command_table():
    r = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "commands_table.py"),
                        "--check"], capture_output=True, text=True)
    check(r.returncode == 0, "README.md and user/commands.c differ:\n" + r.stdout + r.stderr)


def test_help_for_every_command():
    cmds = commands_table.commands()
    check(len(cmds) > 20, "user/commands.c parsed to %d commands" % len(cmds))
    with Guest() as g:
        g.expect_prompt(60)
        out = g.command("help")
        check_fits(check, "help", out, g)
        for c in cmds:
            check(re.search(r"^  %s\b" % re.escape(c["name"]), out, re.M),
                  "help lacks " + c["name"], g)
        for c in cmds:
            out = g.command("help " + c["name"])
            check_fits(check, "help " + c["name"], out, g)
            f = unwrap(out)
            check(f.get("usage") == commands_table.usage(c), "%s: usage %r" % (c["name"], f), g)
            check(f.get("in short") == plain(c["help"]), "%s: %r" % (c["name"], f), g)
            label = "measures" if c["section"] in ("DEMO", "HTTPD") else "shows"
            check(f.get(label) == plain(c["about"]),
                  "%s: %s %r,\nwanted %r" % (c["name"], label, f.get(label), plain(c["about"])), g)
            if c["claim"]:
                check(f.get("the talk's claim") == plain(c["claim"]), "%s: %r" % (c["name"], f), g)
        # A README reference reads as one at the console: no "see below".
        out = g.command("help spawn")
        check("(README: Ring 3)" in out and "below" not in out, out, g)
        out = g.command("help nosuch")
        check("help: no command 'nosuch' (type 'help' for the list)" in out, out, g)
        out = g.command("help ps mem")
        check("usage: help [CMD]" in out, out, g)


def test_editor_keys_edit_the_line():
    with Guest() as g:
        g.expect_prompt(60)
        steps = [
            # typed, what must run (its output), why
            ("ptime\x1b[Hu\r", r"up \d+\.\d{3} s", "Home, then insert at the start"),
            ("uptimex\x1b[D\x1b[D\x1b[3~\r", r"uptimx: unknown command", "Left twice, Delete"),
            ("upt\x01\x05ime\r", r"up \d+\.\d{3} s", "Ctrl-A, Ctrl-E, append"),
            ("uptime now\x1b[D\x1b[D\x1b[D\x1b[D\x0b\r", r"up \d+\.\d{3} s", "Ctrl-K"),
            ("xuptime\x1b[1~\x1b[3~\x1b[4~\r", r"up \d+\.\d{3} s", "Home (ESC [ 1 ~), Delete, End"),
            ("sched\x1bOH\x1b[C\x1b[C\x1b[C\x1b[C\x1b[C\x1b[C irqs\r",
             r"sched: unknown setting 'irqs'", "Right past the end stays at the end"),
        ]
        for keys, want, why in steps:
            start = g.pos
            g.send(keys)
            g.expect(want, 20)
            g.expect_prompt(20)
            with g.cv:
                out = g.buf[start:g.pos].decode("latin-1")
            check("dropped" not in out, "%s: %r" % (why, out), g)
        # Ctrl-L: the screen is cleared, the line drawn again, and it runs.
        start = g.pos
        g.send("upti\x0cme\r")
        g.expect(r"up \d+\.\d{3} s", 20)
        g.expect_prompt(20)
        with g.cv:
            out = g.buf[start:g.pos].decode("latin-1")
        check(CLEAR + "webscale> upti" in out and "dropped" not in out, repr(out), g)
        out = g.command("clear")
        check(CLEAR in out, repr(out), g)
        # Unknown sequences and bytes: counted, not inserted.
        out = g.command("up\x1bOP\x1b[1;5C\x1b[15~ti\x02me")
        check(re.search(r"\(dropped 1 control byte, 3 escape sequences\)", out)
              and re.search(r"up \d+\.\d{3} s", out), repr(out), g)
