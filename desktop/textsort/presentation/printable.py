"""The one rule for untrusted text shown on a terminal: file and folder names, labels, model
names. Text that is all printable (CJK and other scripts included) is shown as is; anything
else (ESC, newlines, C1 controls, bidi and other format characters, the lone surrogates of a
name that is not UTF-8) is shown repr-style, quoted with backslash escapes, so it can neither
move the cursor, fake an output line, nor fail to encode."""
from __future__ import annotations


def printable(s) -> str:
    s = str(s)
    return s if s.isprintable() else repr(s)
