"""Parameter inference on real notebook files."""
import json

import pytest

from catalog.inspection import NotebookError, notebook_read
from helpers import notebook_bytes

LIMIT = 1_000_000


def params(data: bytes) -> dict:
    return {p.name: p for p in notebook_read(data, max_bytes=LIMIT).parameters}


def test_types_are_inferred_from_literals_and_annotations():
    found = params(notebook_bytes(
        'count = 3\n'
        'rate = 0.5\n'
        'name = "acme"\n'
        'enabled = False\n'
        'accounts = ["a", "b"]\n'
        'pair = (1, 2)\n'
        'options = {"k": 1}\n'
        'threshold: float = 1  # min score\n'
        'label: str = None\n'
        'maybe: Optional[int] = None\n'
        'tags: list[str] = []\n'
    ))
    assert {n: p.type for n, p in found.items()} == {
        "count": "int", "rate": "float", "name": "str", "enabled": "bool", "accounts": "list",
        "pair": "list", "options": "dict", "threshold": "float", "label": "str", "maybe": "int", "tags": "list",
    }
    assert found["accounts"].default == ["a", "b"]
    assert found["pair"].default == [1, 2]
    assert found["threshold"].help == "min score"
    assert found["threshold"].default == 1


def test_a_none_default_is_required_unless_optional():
    found = params(notebook_bytes("account = None\nlabel: str = None\nmaybe: Optional[int] = None\nx = 1"))
    assert found["account"].required and found["account"].type is None
    assert found["label"].required and found["label"].type == "str"
    assert not found["maybe"].required
    assert not found["x"].required


def test_a_default_that_is_no_literal_leaves_the_type_unknown():
    found = params(notebook_bytes('when = datetime.date.today()\nn = 2 ** 8\nbig = 10'))
    assert found["when"].type is None and found["when"].default is None
    assert found["when"].default_source == "datetime.date.today()"
    assert found["n"].type is None
    assert found["big"].type == "int"


def test_notebook_without_parameters_cell_has_no_parameters():
    inspected = notebook_read(notebook_bytes(None, "print('hi')"), max_bytes=LIMIT)
    assert inspected.parameters == []
    assert inspected.kernel_name == "python3"


def test_non_python_kernel_is_accepted_without_a_typed_signature():
    r_nb = notebook_bytes('alpha = 0.1\nname = "x"', kernel="ir", language="R")
    inspected = notebook_read(r_nb, max_bytes=LIMIT)
    assert inspected.kernel_name == "ir" and inspected.language == "R"
    # papermill can inject into R notebooks but cannot introspect them.
    assert inspected.parameters == []


def test_unknown_language_gives_no_parameters():
    inspected = notebook_read(notebook_bytes("x = 1", kernel="sas", language="sas"), max_bytes=LIMIT)
    assert inspected.parameters == []


def test_same_content_same_sha_whitespace_ignored():
    data = notebook_bytes("x = 1")
    reformatted = json.dumps(json.loads(data), indent=4).encode()
    assert notebook_read(data, max_bytes=LIMIT).sha256 == notebook_read(reformatted, max_bytes=LIMIT).sha256
    assert notebook_read(data, max_bytes=LIMIT).sha256 != notebook_read(notebook_bytes("x = 2"), max_bytes=LIMIT).sha256


@pytest.mark.parametrize("data,reason", [
    (b"\xff\xfe not text", "not UTF-8"),
    (b"{ this is not json", "not valid JSON"),
    (b'{"hello": "world"}', "not a Jupyter notebook"),
    (b"[1, 2]", "not a Jupyter notebook"),
    (json.dumps({"nbformat": 3, "nbformat_minor": 0, "worksheets": [], "metadata": {}, "cells": []}).encode(), "nbformat 3"),
    (json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "code"}]}).encode(), "Invalid notebook: .*missing an expected key: metadata"),
])
def test_broken_files_are_refused_with_the_reason(data, reason):
    with pytest.raises(NotebookError, match=reason):
        notebook_read(data, max_bytes=LIMIT)


def test_size_limit():
    data = notebook_bytes("x = 1", "y = '" + "a" * 5000 + "'")
    with pytest.raises(NotebookError, match="limit is 1,000 bytes"):
        notebook_read(data, max_bytes=1000)


def test_outputs_from_every_form_of_glue_typed_by_what_is_glued():
    data = notebook_bytes("n = 3", 'from scrapbook import glue\nimport scrapbook\nrate = 0.5\nglue("rate", rate)\n'
                          'scrapbook.glue(name="names", data=[str(i) for i in range(n)])\nsb.glue(f"dyn{n}", 1)\nsb.glue("1bad", 2)')
    found = notebook_read(data, max_bytes=LIMIT).outputs
    assert [(o.name, o.type) for o in found] == [("rate", "float"), ("names", "list")]  # names that are no identifier are skipped


def test_no_outputs_for_other_languages_or_broken_ordinary_cells():
    assert notebook_read(notebook_bytes("x = 1", kernel="ir", language="R"), max_bytes=LIMIT).outputs == []
    # An ordinary cell that does not parse is the kernel's business; the rest is still read.
    assert [o.name for o in notebook_read(notebook_bytes("x = 1", "def (", 'sb.glue("y", 1)'), max_bytes=LIMIT).outputs] == ["y"]
