"""Secrets scrubbed from what a real notebook prints, in every form a notebook easily prints them."""
import html
import json
from urllib.parse import quote, quote_plus

import nbformat
import pytest

from helpers import notebook_bytes
from runtime.execute import NotebookFailed, notebook_execute

SECRET = "p&ss w<rd>/\"tok\"+1"


def nb(*cells):
    return nbformat.reads(notebook_bytes(None, *cells), as_version=4)


def run(pool, tmp_path, *cells, outputs=()):
    out = tmp_path / "out.ipynb"
    try:
        result = notebook_execute(notebook=nb(*cells), output_path=out, parameters={}, outputs=outputs,
                                  env={"PW": SECRET}, secrets=[SECRET], kernel_manager=pool.take("python3"))
        return out.read_text(), result, None
    except NotebookFailed as e:
        return out.read_text(), None, e


@pytest.mark.parametrize("form", [
    "html.escape(p)", "html.escape(p, quote=False)", "quote_plus(p)", "quote(p, safe='/')", "quote(p, safe='')",
])
def test_escaped_and_quoted_forms_are_scrubbed(pool, tmp_path, form):
    stored, result, _ = run(
        pool, tmp_path,
        "import os, html\nfrom urllib.parse import quote, quote_plus\np = os.environ['PW']\n"
        f"print({form})\nfrom IPython.display import HTML\nHTML('<b>' + {form} + '</b>')\nshown = {form}",
        outputs=["shown"])
    forms = {html.escape(SECRET), html.escape(SECRET, quote=False), quote_plus(SECRET), quote(SECRET, safe="/"),
             quote(SECRET, safe="")}
    stored_text = json.loads(stored)  # the file holds JSON: look at its strings, not its escapes
    flat = json.dumps(stored_text, ensure_ascii=False)
    assert all(f not in flat and f not in stored for f in forms)
    assert "********" in flat and result.outputs == {"shown": "********"}


def test_a_secret_printed_in_pieces_is_scrubbed_from_the_stored_notebook(pool, tmp_path):
    stored, _, _ = run(
        pool, tmp_path,
        "import os, sys, time\np = os.environ['PW']\n"
        "print(p[:5], end='', flush=True)\ntime.sleep(0.3)\nprint(p[5:], flush=True)\n"
        "sys.stderr.write(p[:3]); sys.stderr.flush(); time.sleep(0.3); sys.stderr.write(p[3:] + '\\n')")
    cell = json.loads(stored)["cells"][1]
    streams = {o["name"]: "".join(o["text"]) for o in cell["outputs"] if o["output_type"] == "stream"}
    assert streams == {"stdout": "********\n", "stderr": "********\n"}
    assert SECRET[:5] not in stored and SECRET[5:] not in stored


def test_pieces_around_a_failure_are_scrubbed_from_the_error(pool, tmp_path):
    stored, _, failure = run(
        pool, tmp_path,
        "import html, os, time\np = os.environ['PW']\nprint(p[:4], end='', flush=True)\ntime.sleep(0.3)\n"
        "print(p[4:], flush=True)\nraise ValueError(html.escape(p))")
    assert failure is not None and failure.message == "Cell 1 raised ValueError: ********"
    assert SECRET[4:] not in stored and html.escape(SECRET) not in stored
