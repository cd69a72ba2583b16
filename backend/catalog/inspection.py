"""Read a notebook file and infer its typed parameter signature. No Django here.

papermill reads the `parameters`-tagged cell (names, default source text, help, and a type
only from an annotation); Loom adds the type of the default's literal, so `a = 1` is an int.
A default of `None` means the notebook expects the workflow to supply a value: required.
"""
import ast
import hashlib
import json
from dataclasses import asdict, dataclass

import nbformat
from papermill.exceptions import PapermillException
from papermill.translators import papermill_translators

# The parameter types a workflow can check and an editor can offer an input for.
TYPES = ("str", "int", "float", "bool", "list", "dict")
_ANNOTATION_TYPES = {"str": "str", "int": "int", "float": "float", "bool": "bool",
                     "list": "list", "tuple": "list", "dict": "dict", "sequence": "list", "mapping": "dict"}


# Jupyter writes a notebook a few levels deep (an output's JSON data nests more); one much deeper
# would exhaust the recursion of nbformat's validator (500 levels did).
MAX_DEPTH = 100


class NotebookError(ValueError):
    """The file is not a notebook Loom can use; the message says why."""


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str | None  # one of TYPES, or None when neither annotation nor literal tells
    default: object  # the default as a JSON value; None when absent or not a literal
    help: str
    required: bool
    default_source: str  # the default as written in the notebook


@dataclass(frozen=True)
class InspectedNotebook:
    node: nbformat.NotebookNode
    content: str  # canonical JSON text, the thing that is versioned
    sha256: str
    kernel_name: str
    language: str
    parameters: list[Parameter]

    def parameters_json(self) -> list[dict]:
        return [asdict(p) for p in self.parameters]


def notebook_read(data: bytes, *, max_bytes: int) -> InspectedNotebook:
    """Parse and validate notebook bytes; raise NotebookError with a reason a person can act on."""
    if len(data) > max_bytes:
        raise NotebookError(f"The notebook is {len(data):,} bytes; the limit is {max_bytes:,} bytes.")
    try:
        text = data.decode("utf-8")
        raw = json.loads(text)
    except UnicodeDecodeError:
        raise NotebookError("The file is not UTF-8 text, so it is not a Jupyter notebook.")
    except json.JSONDecodeError as e:
        raise NotebookError(f"The file is not valid JSON ({e.msg} at line {e.lineno}, column {e.colno}).")
    except RecursionError:
        raise NotebookError(f"The notebook nests lists and objects deeper than {MAX_DEPTH} levels.")
    problem = _json_problem(raw)
    if problem:
        raise NotebookError(f"The notebook {problem}.")
    if not isinstance(raw, dict) or "cells" not in raw or "nbformat" not in raw:
        raise NotebookError("The JSON is not a Jupyter notebook (it has no 'cells' and 'nbformat').")
    if raw.get("nbformat") != 4:
        raise NotebookError(f"Only nbformat 4 notebooks are supported; this one is nbformat {raw.get('nbformat')!r}.")
    try:
        # reads() joins multi-line sources the way the rest of the Jupyter stack expects.
        node = nbformat.reads(text, as_version=nbformat.NO_CONVERT)
        nbformat.validate(node)
    except nbformat.ValidationError as e:
        where = "/".join(str(p) for p in e.absolute_path)
        raise NotebookError(f"Invalid notebook{f' at {where}' if where else ''}: {e.message}")
    content = nbformat.writes(node)
    kernelspec = node.metadata.get("kernelspec", {})
    language = node.metadata.get("language_info", {}).get("name") or kernelspec.get("language") or "python"
    kernel_name = kernelspec.get("name") or "python3"
    return InspectedNotebook(
        node=node,
        content=content,
        sha256=hashlib.sha256(content.encode()).hexdigest(),
        kernel_name=kernel_name,
        language=language,
        parameters=parameters_infer(node, kernel_name=kernel_name, language=language),
    )


def _json_problem(value) -> str | None:
    """Why no notebook can hold `value`'s JSON: nesting deeper than MAX_DEPTH, or a lone surrogate
    (an escape such as \\ud800 that is no character, which no database row or response can
    hold), and where. Walks without recursion, so any depth is safe."""
    stack = [(value, ())]
    while stack:
        item, path = stack.pop()
        if isinstance(item, (dict, list)) and len(path) >= MAX_DEPTH:
            return f"nests lists and objects deeper than {MAX_DEPTH} levels (at {_where(path[:3])}/...)"
        if isinstance(item, dict):
            stack.extend((key, (*path, key)) for key in item)  # a key is checked as text where it is
            stack.extend((inner, (*path, key)) for key, inner in item.items())
        elif isinstance(item, list):
            stack.extend((inner, (*path, i)) for i, inner in enumerate(item))
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as e:
                shown = item[e.start].encode("utf-8", "backslashreplace").decode()
                return f"holds a lone surrogate ({shown}), which is not a character, at {_where(path) or 'its top level'}"
    return None


def _where(path: tuple) -> str:
    return "/".join(str(p).encode("utf-8", "backslashreplace").decode() for p in path)


def parameters_infer(node: nbformat.NotebookNode, *, kernel_name: str, language: str) -> list[Parameter]:
    """The typed parameters of the notebook's `parameters` cell (empty when it has none)."""
    # papermill's own finder expects every cell to carry a `tags` list, which files need not have.
    cell = next((c for c in node.cells if "parameters" in c.get("metadata", {}).get("tags", [])), None)
    if cell is None:
        return []
    try:
        translator = papermill_translators.find_translator(kernel_name, language)
        found = translator.inspect(cell)
    except (NotImplementedError, PapermillException):
        return []  # papermill cannot introspect this language: the notebook runs, with no typed signature
    return [_parameter(p.name, p.inferred_type_name, p.default, p.help) for p in found]


def _parameter(name: str, annotation: str, default_source: str, help: str) -> Parameter:
    try:
        value = ast.literal_eval(default_source)
        is_literal = True
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        value, is_literal = None, False
    if isinstance(value, tuple):
        value = list(value)
    if is_literal and not _is_json(value):
        value, is_literal = None, False
    annotated = _annotation_type(annotation)
    return Parameter(
        name=name,
        type=annotated or (type_of(value) if is_literal else None),
        default=value,
        help=help or "",
        required=is_literal and value is None and not _is_optional(annotation),
        default_source=default_source,
    )


def _annotation_type(annotation: str) -> str | None:
    if not annotation or annotation == "None":
        return None
    text = annotation.strip()
    if text.startswith(("Optional[", "typing.Optional[")):
        text = text[text.index("[") + 1 : -1]
    base = text.split("[", 1)[0].split(".")[-1].strip().lower()
    return _ANNOTATION_TYPES.get(base)


def _is_optional(annotation: str) -> bool:
    # papermill writes the string "None" when there is no annotation at all.
    return annotation not in ("", "None") and ("Optional[" in annotation or "None" in annotation)


def _is_json(value) -> bool:
    try:
        json.dumps(value, allow_nan=False)
        return True
    except (TypeError, ValueError):
        return False


def type_of(value) -> str | None:
    """The Loom type name of a JSON value (bool is not an int here)."""
    for name, kind in (("bool", bool), ("int", int), ("float", float), ("str", str), ("list", list), ("dict", dict)):
        if isinstance(value, kind):
            return name
    return None


def value_fits(value, type_name: str | None) -> bool:
    """Whether a JSON value may be given to a parameter of this type (an int fits a float)."""
    if type_name is None or value is None:
        return True
    actual = type_of(value)
    return actual == type_name or (type_name == "float" and actual == "int")
