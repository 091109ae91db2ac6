"""What the kernel prints fits an 80-column terminal, the last column kept
free: prose is wrapped (user/demo.c's demo_say), tables are narrow. The
@demo lines are for programs, not terminals; ANSI sequences take no
column."""
import re

COLUMNS = 80
WIDE_OK = re.compile(r"^(?:\[\d\] )?@demo ")  # a job's too: "[N] @demo"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def too_wide(text):
    """The lines of text that need COLUMNS columns or more."""
    text = ANSI.sub("", text)
    return [l for l in text.splitlines() if len(l.rstrip()) >= COLUMNS and not WIDE_OK.match(l)]


def check_fits(check, what, text, g=None):
    """check (guest.check) that every line of text fits."""
    wide = too_wide(text)
    check(not wide, "%s: %d lines of %d columns or more, e.g. %r"
          % (what, len(wide), COLUMNS, wide[:1]), g)
