"""Read a notebook file and infer its typed signature: parameters and outputs. No Django here.

papermill reads the `parameters`-tagged cell (names, default source text, help, and a type
only from an annotation); Loom adds the type of the default's literal, so `a = 1` is an int.
A default of `None` means the notebook expects the workflow to supply a value: required.

Outputs are discovered, never required: the names a notebook passes to scrapbook's
`sb.glue("name", value)`, and the variables assigned in a cell tagged `outputs` (the model is
papermill's `parameters` tag). Their types come from an annotation or the assigned expression.
"""
import ast
import hashlib
import json
from dataclasses import asdict, dataclass

import nbformat
from papermill.exceptions import PapermillException
from papermill.translators import papermill_translators

from loom.values import json_body_problem, text_shown

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
class Output:
    name: str
    type: str | None  # one of TYPES, or None when the notebook does not tell


@dataclass(frozen=True)
class InspectedNotebook:
    node: nbformat.NotebookNode
    content: str  # canonical JSON text, the thing that is versioned
    sha256: str
    kernel_name: str
    language: str
    parameters: list[Parameter]
    outputs: list[Output]

    def parameters_json(self) -> list[dict]:
        return [asdict(p) for p in self.parameters]

    def outputs_json(self) -> list[dict]:
        return [asdict(o) for o in self.outputs]


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
    problem = json_body_problem(raw, max_depth=MAX_DEPTH, where=_notebook_path)
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
        outputs=outputs_infer(node, language=language),
    )


def _notebook_path(path: tuple) -> str:
    """Where in a notebook, as nbformat's validator says it: ", at cells/2/source"."""
    return ", at " + "/".join(text_shown(p) for p in path) if path else ""


def parameters_infer(node: nbformat.NotebookNode, *, kernel_name: str, language: str) -> list[Parameter]:
    """The typed parameters of the notebook's `parameters` cell (empty when it has none)."""
    # papermill's own finder expects every cell to carry a `tags` list, which files need not have.
    cell = next((c for c in node.cells if "parameters" in c.get("metadata", {}).get("tags", [])), None)
    if cell is None:
        return []
    if language == "python":
        _python_check(cell.source, "The parameters cell")
    try:
        translator = papermill_translators.find_translator(kernel_name, language)
        found = translator.inspect(cell)
    except (NotImplementedError, PapermillException):
        return []  # papermill cannot introspect this language: the notebook runs, with no typed signature
    return [_parameter(p.name, p.inferred_type_name, p.default, p.help) for p in found]


def _python_check(source: str, what: str) -> ast.Module | None:
    """Refuse at upload a cell that would fail at run time before running anything."""
    try:
        return _python_parse(source)
    except SyntaxError as e:
        text = (e.text or "").strip()
        where = f" at line {e.lineno}" if e.lineno else ""  # (a NUL character has no line)
        raise NotebookError(f"{what} has a syntax error{where}: {e.msg}{f' ({text})' if text else ''}.")
    except ValueError:
        return None  # a NUL byte: Python's own message says nothing more useful than the kernel's will


def _python_parse(source: str) -> ast.Module:
    # The kernel runs IPython: %magics and !shell lines are fine there, so parse what IPython makes of them.
    from IPython.core.inputtransformer2 import TransformerManager

    return ast.parse(TransformerManager().transform_cell(source))


def outputs_infer(node: nbformat.NotebookNode, *, language: str) -> list[Output]:
    """The outputs a Python notebook declares: its `outputs` cell's variables, then its glued names."""
    if language != "python":
        return []
    tagged: list[ast.Module] = []
    others: list[ast.Module] = []
    for cell in node.cells:
        if cell.get("cell_type") != "code":
            continue
        if "outputs" in cell.get("metadata", {}).get("tags", []):
            module = _python_check(cell.source, "The outputs cell")
            if module:
                tagged.append(module)
        else:
            try:
                others.append(_python_parse(cell.source))
            except (SyntaxError, ValueError):
                continue  # the kernel will say; only the signature's cells are checked at upload
    known = _assigned_types([*others, *tagged])
    found: dict[str, str | None] = {}
    for module in tagged:
        for statement in module.body:
            for name, type_ in _assignments(statement, known):
                found.setdefault(name, type_)
    for module in [*others, *tagged]:
        for call in ast.walk(module):
            glued = _glue(call)
            if glued:
                name, value = glued
                found.setdefault(name, _expression_type(value, known))
    return [Output(name, type_) for name, type_ in found.items()]


def _assignments(statement: ast.stmt, known: dict[str, str | None]) -> list[tuple[str, str | None]]:
    """`x = ...`, `x: int = ...`, `a = b = ...` at the top of a cell; tuples unpack to unknown types."""
    if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
        typed = _annotation_type(ast.unparse(statement.annotation))
        return [(statement.target.id, typed or _expression_type(statement.value, known))]
    if isinstance(statement, ast.Assign):
        names = []
        for target in statement.targets:
            if isinstance(target, ast.Name):
                names.append((target.id, _expression_type(statement.value, known)))
            elif isinstance(target, (ast.Tuple, ast.List)):
                names.extend((t.id, None) for t in target.elts if isinstance(t, ast.Name))
        return names
    return []


def _assigned_types(modules: list[ast.Module]) -> dict[str, str | None]:
    """The type of each top-level variable as last assigned, so `sb.glue("auc", auc)` is typed."""
    known: dict[str, str | None] = {}
    for module in modules:
        for statement in module.body:
            known.update(_assignments(statement, known))
    return known


_CALL_TYPES = {"int": "int", "len": "int", "float": "float", "str": "str", "repr": "str", "bool": "bool",
               "list": "list", "sorted": "list", "tuple": "list", "dict": "dict"}


def _expression_type(value: ast.expr | None, known: dict[str, str | None]) -> str | None:
    if value is None:
        return None
    try:
        return type_of(_json_literal(ast.literal_eval(value)))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        pass
    if isinstance(value, ast.JoinedStr):
        return "str"
    if isinstance(value, (ast.List, ast.ListComp, ast.Tuple)):
        return "list"
    if isinstance(value, (ast.Dict, ast.DictComp)):
        return "dict"
    if isinstance(value, ast.Compare) or (isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.Not)):
        return "bool"
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
        return _CALL_TYPES.get(value.func.id)
    if isinstance(value, ast.Name):
        return known.get(value.id)
    return None


def _json_literal(value):
    if isinstance(value, tuple):
        value = list(value)
    if not _is_json(value):
        raise ValueError("not a JSON value")
    return value


def _glue(call: ast.AST) -> tuple[str, ast.expr | None] | None:
    """("name", value) of `sb.glue("name", value)`, `scrapbook.glue(...)` or a bare `glue(...)`."""
    if not isinstance(call, ast.Call):
        return None
    func = call.func
    is_glue = (isinstance(func, ast.Attribute) and func.attr == "glue") or (isinstance(func, ast.Name) and func.id == "glue")
    name = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "name"), None)
    if not is_glue or not (isinstance(name, ast.Constant) and isinstance(name.value, str) and name.value.isidentifier()):
        return None
    value = call.args[1] if len(call.args) > 1 else next((k.value for k in call.keywords if k.arg in ("data", "scrap")), None)
    return name.value, value


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
