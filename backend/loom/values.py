"""The one rule for a JSON value a user gives Loom: only what every place it goes can take.
No Django here.

A value travels into a generated DAG file (as a Python literal, which Python's parser nests
at most 200 deep), into Airflow's run conf and XComs (JSON), through the browser (JavaScript
numbers) and into PostgreSQL's jsonb (no NUL, no lone surrogates). Graph validation (node
values, global defaults) and run-parameter checks ask `json_value_problem`, so a value refused
in one place is refused in all; the API's JSON parser asks `json_body_problem`, its part that
must hold before any serializer runs.
"""
import math

# Deep enough for any real configuration, far below what Python's parser (200 brackets) and
# the recursive code on the way (repr, json, the renderer) take.
MAX_DEPTH = 32
# JSON readers that are not Python (Airflow's UI, the editor, Go and Java clients) keep
# integers exactly only within 64 bits, some only within 53; Loom keeps the 64-bit range.
INT_MIN, INT_MAX = -(2**63), 2**63 - 1


def json_value_problem(value, *, max_depth: int = MAX_DEPTH) -> str | None:
    """Why `value` cannot be taken, as a phrase ("nests deeper than 32 levels", "holds inf
    at ['a'][0]"), or None if it is fine. Walks without recursion, so any depth is safe."""
    return _walk(value, max_depth, _scalar_problem, _text_problem)


def json_body_problem(value, *, max_depth: int, where=None) -> str | None:
    """The part of the rule that must hold before any serializer looks at a request body (or an
    uploaded notebook): depth (recursive code would crash) and lone surrogates (no response or
    database row could hold them). The rest is left to the serializers and validation, which name
    the field. `where` shows the path of a problem (by default " at ['a'][0]")."""
    return _walk(value, max_depth, _surrogate_in_scalar, _surrogate_problem, where or _at)


def _walk(value, max_depth: int, scalar_problem, key_problem, where=None) -> str | None:
    _at_ = where or _at
    stack = [(value, 0, ())]
    while stack:
        item, level, path = stack.pop()
        if isinstance(item, (dict, list)):
            if level + 1 > max_depth:
                return f"nests lists and objects deeper than {max_depth} levels"
            if isinstance(item, dict):
                for key, inner in item.items():
                    if not isinstance(key, str):
                        return f"has a key that is not text ({type(key).__name__}){_at_(path)}"
                    problem = key_problem(key)
                    if problem:
                        return f"has a key with {problem}{_at_(path)}"
                    stack.append((inner, level + 1, (*path, key)))
            else:
                stack.extend((inner, level + 1, (*path, i)) for i, inner in enumerate(item))
            continue
        problem = scalar_problem(item)
        if problem:
            return f"{problem}{_at_(path)}"
    return None


def text_shown(text) -> str:
    """`text` safe to put in a message or a field name: lone surrogates as \\udXXX escapes."""
    return str(text).encode("utf-8", "backslashreplace").decode("utf-8")


def _scalar_problem(item) -> str | None:
    if item is None or isinstance(item, bool):
        return None
    if isinstance(item, int):
        if not INT_MIN <= item <= INT_MAX:
            return "holds an integer outside the 64-bit range (-2**63 to 2**63-1) that JSON readers keep exactly"
        return None
    if isinstance(item, float):
        return None if math.isfinite(item) else f"holds {item!r}, which JSON cannot carry"
    if isinstance(item, str):
        problem = _text_problem(item)
        return f"holds a string with {problem}" if problem else None
    return f"holds a {type(item).__name__}, which is not a JSON value"


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "a NUL character (\\u0000), which the database cannot store"
    return _surrogate_problem(text)


def _surrogate_problem(text: str) -> str | None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        return f"a lone surrogate ({text_shown(text[e.start])}), which is not a character"
    return None


def _surrogate_in_scalar(item) -> str | None:
    problem = _surrogate_problem(item) if isinstance(item, str) else None
    return f"holds a string with {problem}" if problem else None


def _at(path: tuple) -> str:
    return " at " + "".join(f"[{p!r}]" for p in path) if path else ""
