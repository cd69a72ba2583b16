"""runs.artifacts: the mirror reads a task's file (its executed notebook, its result) only inside
the tenant's folder, never through a symlink, never a FIFO or a file over the cap."""
import os

from runs.artifacts import executed_notebook_max_bytes, task_file_read

PARTS = ["loom__acme__1", "run-1", "task", "nb.ipynb"]


def plant(root, tenant="acme"):
    folder = root / tenant / "loom__acme__1" / "run-1" / "task"
    folder.mkdir(parents=True)
    return folder


def test_reads_a_regular_file_in_the_tenants_folder(tmp_path):
    (plant(tmp_path) / "nb.ipynb").write_text("{}")
    assert task_file_read(tenant="acme", parts=PARTS, root=tmp_path, max_bytes=10) == "{}"
    assert task_file_read(tenant="acme", parts=[*PARTS[:3], "missing.ipynb"], root=tmp_path) is None


def test_never_follows_a_symlink_anywhere_on_the_path(tmp_path):
    secret = tmp_path / "encryption.key"
    secret.write_text("key")
    folder = plant(tmp_path)
    (folder / "nb.ipynb").symlink_to(secret)
    assert task_file_read(tenant="acme", parts=PARTS, root=tmp_path) is None
    # Another tenant's folder linked in as a directory of this one.
    (plant(tmp_path, "globex") / "nb.ipynb").write_text("globex's")
    os.symlink(tmp_path / "globex" / "loom__acme__1", tmp_path / "acme" / "loom__acme__2")
    assert task_file_read(tenant="acme", parts=["loom__acme__2", *PARTS[1:]], root=tmp_path) is None
    assert task_file_read(tenant="acme", parts=["..", "globex", *PARTS], root=tmp_path) is None


def test_refuses_a_fifo_and_a_file_over_the_cap(tmp_path, settings):
    folder = plant(tmp_path)
    os.mkfifo(folder / "nb.ipynb")
    assert task_file_read(tenant="acme", parts=PARTS, root=tmp_path) is None  # and does not hang
    os.unlink(folder / "nb.ipynb")
    (folder / "nb.ipynb").write_bytes(b"x" * 11)
    assert task_file_read(tenant="acme", parts=PARTS, root=tmp_path, max_bytes=10) is None
    assert executed_notebook_max_bytes() == settings.LOOM_NOTEBOOK_MAX_BYTES + settings.LOOM_NODE_LIMITS.notebook_max_bytes
