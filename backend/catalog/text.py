"""Text from a notebook, made storable. No Django here.

PostgreSQL refuses the NUL character (U+0000) in text and jsonb columns, and a notebook can
hold one anywhere: printed, in an output value, in an error, in an uploaded cell. Everything
a notebook writes into the database goes through `nul_replace` first, so storing never fails
on it (and SQLite stores the same thing).
"""
NUL = "\x00"
REPLACEMENT = "\ufffd"  # U+FFFD REPLACEMENT CHARACTER, shown as �


def nul_replace(value):
    """`value` (text, or JSON made of dicts, lists and text) with each NUL replaced by U+FFFD,
    and how many were replaced."""
    if isinstance(value, str):
        count = value.count(NUL)
        return (value.replace(NUL, REPLACEMENT) if count else value), count
    if isinstance(value, dict):
        out, total = {}, 0
        for key, item in value.items():
            key, a = nul_replace(key)
            out[key], b = nul_replace(item)
            total += a + b
        return (out if total else value), total
    if isinstance(value, (list, tuple)):
        pairs = [nul_replace(item) for item in value]
        total = sum(n for _, n in pairs)
        return ([v for v, _ in pairs] if total else value), total
    return value, 0
