"""The one way a value enters a generated DAG file: as a Python literal. No Django here.

Templates print values only through `py_literal` (the `py` filter), and the Jinja environment
refuses to print anything else (see rendering.py). A literal can hold any text, so no name,
description or parameter value can add code to the file: at worst it is an odd string.
Characters Python could read differently from how they are meant are written as escapes,
never raw: every line break but "\n" (\r, \x0b, \x0c, \x1c-\x1e, \x85, U+2028/2029; none is
printable), NUL, byte-order marks and lone surrogates; so a literal in a comment stays on its
line and the file always encodes to UTF-8. The template keeps user text off the file's first
two lines, where Python would obey a PEP 263 encoding declaration.
"""
import math

# Containers whose one-line form would pass this column are laid out one item per line.
WIDTH = 100


class Literal(str):
    """Text that `py_literal` produced; the only kind of value a DAG template may print."""


def py_literal(value, indent: int = 0, *, one_line: bool = False) -> Literal:
    """`value` (JSON-like: None, bool, int, float, str, list, tuple, dict) as Python source.

    `ast.literal_eval` of the result equals `value` (a tuple is written as a list). `indent` is the column the literal starts at; nested containers that
    do not fit on one line are indented from there. Multi-line text too long for one line
    is written as a triple-quoted string so that embedded source code stays readable;
    `one_line` forbids both, for a literal printed inside a comment.
    """
    return Literal(_flat(value) if one_line else _layout(value, indent))


def _layout(value, indent: int) -> str:
    flat = _flat(value)
    if indent + len(flat) <= WIDTH:
        return flat
    if isinstance(value, str):
        return _triple_quoted(value) if "\n" in value else flat
    if isinstance(value, (list, tuple)) and value:
        inner = " " * (indent + 4)
        items = "".join(f"{inner}{_layout(v, indent + 4)},\n" for v in value)
        return "[\n" + items + " " * indent + "]"
    if isinstance(value, dict) and value:
        inner = " " * (indent + 4)
        items = "".join(f"{inner}{_flat(k)}: {_layout(v, indent + 4)},\n" for k, v in value.items())
        return "{\n" + items + " " * indent + "}"
    return flat


def _flat(value) -> str:
    # bool before int: True is an int to isinstance.
    if value is None or isinstance(value, (bool, str)):
        return repr(value)
    if isinstance(value, int):
        return repr(int(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} has no Python literal; JSON values are finite numbers.")
        return repr(float(value))
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_flat(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_flat(k)}: {_flat(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"A {type(value).__name__} cannot be written into a DAG file as a literal.")


def _triple_quoted(text: str) -> str:
    """A '''-string whose lines are the lines of `text`, for reading embedded source."""
    out = []
    for i, ch in enumerate(text):
        if ch == "\\":
            out.append("\\\\")
        elif ch == "'" and (i + 1 == len(text) or text[i + 1] == "'"):
            # No two raw quotes in a row and none last, so the string cannot close early.
            out.append("\\'")
        elif ch == "\n" or (ch.isprintable() and ch != "\t"):
            out.append(ch)
        else:
            out.append(repr(ch)[1:-1])
    # The backslash-newline after the opening quotes is a line continuation: not part of the value.
    return "'''\\\n" + "".join(out) + "'''"
