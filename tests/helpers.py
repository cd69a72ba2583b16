"""Building blocks for tests: real notebooks made with nbformat, and API clients."""
import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook


def notebook_bytes(parameters: str | None = None, *cells: str, kernel: str = "python3", language: str = "python") -> bytes:
    """A real nbformat-4 notebook; `parameters` becomes the `parameters`-tagged cell."""
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": kernel, "display_name": kernel, "language": language}
    nb.metadata["language_info"] = {"name": language}
    nb.cells.append(new_markdown_cell("# test notebook"))
    if parameters is not None:
        cell = new_code_cell(parameters)
        cell.metadata["tags"] = ["parameters"]
        nb.cells.append(cell)
    nb.cells.extend(new_code_cell(c) for c in cells)
    return nbformat.writes(nb).encode()


def upload(client, tenant: str, name: str, data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(f"/api/tenants/{tenant}/notebooks/", {"file": SimpleUploadedFile(name, data)}, format="multipart")
