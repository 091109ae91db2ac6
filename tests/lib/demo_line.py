"""Read the machine-readable lines the demos print after their prose
(user/demo.h):

    @demo NAME key=value key=value ...

A key ends in its unit or names a count; a value is a whole number, a
decimal, or one word ("-": not measured). Tests read these, not the
sentences, so rewording a sentence breaks no test."""
import re

from guest import TestFailure

LINE = re.compile(r"^(?:\[\d\] )?@demo (\S+)((?: [^\s=]+=\S*)*)\r?$", re.M)


def _value(v):
    if re.fullmatch(r"\d+", v):
        return int(v)
    if re.fullmatch(r"\d+\.\d+", v):
        return float(v)
    return v


def demo_lines(out, name):
    """Every @demo line of NAME in out, in order, each as a dict."""
    lines = []
    for m in LINE.finditer(out):
        if m.group(1) == name:
            lines.append({k: _value(v) for k, v in
                          (kv.split("=", 1) for kv in m.group(2).split())})
    return lines


def demo_line(out, name):
    """The one @demo line of NAME in out; TestFailure if there is not exactly one."""
    lines = demo_lines(out, name)
    if len(lines) != 1:
        raise TestFailure("expected one '@demo %s' line, found %d in:\n%s"
                             % (name, len(lines), out))
    return lines[0]
