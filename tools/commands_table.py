#!/usr/bin/env python3
"""The README's command tables, from the shell's command table.

user/commands.c holds each command's usage, its one line for `help`, the
talk's claim a demo tests and what the command shows or measures: the text
`help CMD` prints. README.md shows the same text in tables between
markers

    <!-- commands SECTION ... -->
    | command | ... |
    <!-- end commands SECTION -->

This script writes those tables (--write) or checks them (--check, the
default: exit 1 and a diff if they differ). tests/scenarios/test_help.py
runs the check, and `help CMD` for every command against the same text.
"""
import difflib
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COMMANDS_C = os.path.join(ROOT, "user", "commands.c")
README = os.path.join(ROOT, "README.md")
HELP_TEXT_MAX = 2048          # user/commands.c: the buffer help prints from

HEADS = {
    "BASIC": "| command | what it shows |\n|---|---|",
    "JOBS": "| command | does |\n|---|---|",
    "DEMO": "| command | the talk's claim | what it measures |\n|---|---|---|",
    "NET": "| command | shows |\n|---|---|",
    "HTTPD": "| command | the talk's claim | what it measures |\n|---|---|---|",
}

STRING = r'"(?:[^"\\]|\\.)*"'
FIELD = re.compile(r"\.(\w+)\s*=\s*((?:%s\s*)+|[\w|]+)" % STRING)


def c_string(literals):
    """The value of adjacent C string literals."""
    parts = re.findall(STRING, literals)
    text = "".join(p[1:-1] for p in parts)
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), text)


def commands(path=COMMANDS_C):
    """[{name, args, help, claim, about, section}] in the table's order."""
    src = open(path).read()
    body = src[src.index("shell_commands[] = {"):]
    body = body[:body.index("\n};")]
    out = []
    for block in re.findall(r"\n    \{\n(.*?)\n    \},", body, re.S):
        c = {"claim": None}
        for name, value in FIELD.findall(block):
            c[name] = c_string(value) if value.startswith('"') else value
        c["section"] = c["section"].replace("SHELL_", "")
        out.append(c)
    return out


SECTION_REF = re.compile(r"\{([^{}]*)\}")


def cell(text):
    """A README cell: {Section} (help prints "(README: Section)") points
    to a part further down."""
    return SECTION_REF.sub(r"(see *\1* below)", text.replace("|", "\\|"))


def usage(c):
    return c["name"] + (" " + c["args"] if c["args"] else "")


def table(section, cmds):
    rows = [HEADS[section]]
    for c in cmds:
        if c["section"] != section:
            continue
        cells = ["`%s`" % cell(usage(c))]
        if c["claim"] is not None:
            cells.append(cell(c["claim"]))
        cells.append(cell(c["about"]))
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


MARKED = re.compile(r"(<!-- commands (\w+)[^\n]*-->\n)(.*?)(\n<!-- end commands \2 -->)", re.S)


def render(readme, cmds):
    seen = set()

    def one(m):
        seen.add(m.group(2))
        return m.group(1) + table(m.group(2), cmds) + m.group(4)
    text = MARKED.sub(one, readme)
    missing = set(HEADS) - seen
    if missing:
        raise SystemExit("README.md has no table for section(s) %s" % ", ".join(sorted(missing)))
    return text


def problems(cmds):
    """What the table itself gets wrong."""
    bad = []
    for c in cmds:
        for key in ("name", "args", "help", "about", "section"):
            if key not in c:
                bad.append("%s: no .%s" % (c.get("name", "?"), key))
        if len(c.get("about", "")) >= HELP_TEXT_MAX or len(c.get("claim") or "") >= HELP_TEXT_MAX:
            bad.append("%s: text longer than help's %d bytes" % (c["name"], HELP_TEXT_MAX))
        for key in ("help", "claim", "about"):
            text = SECTION_REF.sub("", c.get(key) or "")
            if re.search(r"(?<![*\w])\*\w[^*]*\*(?!\*)|\bbelow\b", text):
                bad.append("%s: a README reference (*Section*, below) means nothing at the "
                           "console: write {Section}" % c["name"])
        if c.get("section") not in HEADS:
            bad.append("%s: unknown section %s" % (c["name"], c.get("section")))
        if (c.get("claim") is not None) != (c.get("section") in ("DEMO", "HTTPD")):
            bad.append("%s: a claim belongs to the demo tables, and each demo has one" % c["name"])
    return bad


def main(argv):
    mode = argv[1] if len(argv) > 1 else "--check"
    if mode not in ("--check", "--write"):
        raise SystemExit("usage: tools/commands_table.py [--check | --write]")
    cmds = commands()
    bad = problems(cmds)
    if bad:
        print("user/commands.c:\n  " + "\n  ".join(bad))
        return 1
    readme = open(README).read()
    want = render(readme, cmds)
    if mode == "--write":
        if want != readme:
            open(README, "w").write(want)
            print("README.md: command tables written from user/commands.c")
        return 0
    if want != readme:
        sys.stdout.writelines(difflib.unified_diff(
            readme.splitlines(True), want.splitlines(True), "README.md", "from user/commands.c"))
        print("README.md's command tables differ from user/commands.c: "
              "run tools/commands_table.py --write")
        return 1
    print("README.md's command tables match user/commands.c (%d commands)" % len(cmds))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
