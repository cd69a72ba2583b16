"""Reading what a notebook's task left on disk, where the notebook (untrusted code) could write too.

An Airflow task writes the executed notebook and its result (dags/airflow_tasks.py's RESULT_FILE)
into the tenant's own folder, `LOOM_AIRFLOW_ARTIFACTS_DIR/<tenant>/<dag id>/<run id>/<task>[/<map index>]/<name>`,
where the notebook itself runs. So the notebook can put a symlink there (to Loom's encryption key,
another tenant's folder) or a file of any size. The mirror reads through `task_file_read`: every
component is opened relative to the one before with O_NOFOLLOW, so no symlink is followed and
the path cannot leave the tenant's folder, and the file must be a regular file under the size cap.
"""
import logging
import os
import stat
from pathlib import Path

from django.conf import settings

log = logging.getLogger(__name__)


def executed_notebook_max_bytes() -> int:
    """The largest executed notebook Loom reads: its source (an upload, at most
    LOOM_NOTEBOOK_MAX_BYTES) plus its outputs (at most LOOM_NOTEBOOK_OUTPUT_MAX_BYTES)."""
    return settings.LOOM_NOTEBOOK_MAX_BYTES + (settings.LOOM_NODE_LIMITS.notebook_max_bytes or 0)


def task_file_read(*, tenant: str, parts: list[str], root: Path | None = None,
                   max_bytes: int | None = None) -> str | None:
    """The text of `root/<tenant>/<parts...>` (root: LOOM_AIRFLOW_ARTIFACTS_DIR), or None when it
    is missing, is or passes through a symlink, is not a regular file, or is over `max_bytes`
    (executed_notebook_max_bytes()); a refusal is logged."""
    root = Path(settings.LOOM_AIRFLOW_ARTIFACTS_DIR if root is None else root)
    max_bytes = executed_notebook_max_bytes() if max_bytes is None else max_bytes
    where = "/".join([tenant, *parts])
    components = [tenant, *parts]
    if any(c in ("", ".", "..") or "/" in c for c in components):
        log.warning("refused to read %s: not a plain path", where)
        return None
    fds = []
    try:
        fds.append(os.open(root, os.O_RDONLY | os.O_DIRECTORY))
        for name in components[:-1]:
            fds.append(os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fds[-1]))
        # O_NONBLOCK: a FIFO planted there must not hang the mirror.
        fds.append(os.open(components[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=fds[-1]))
        info = os.fstat(fds[-1])
        if not stat.S_ISREG(info.st_mode):
            log.warning("refused to read %s: not a regular file", where)
            return None
        if info.st_size > max_bytes:
            log.warning("refused to read %s: %s bytes, over the limit of %s", where, info.st_size, max_bytes)
            return None
        with os.fdopen(os.dup(fds[-1]), "rb") as f:
            data = f.read(max_bytes + 1)
        if len(data) > max_bytes:  # grew since fstat
            return None
        return data.decode("utf-8", "replace")
    except FileNotFoundError:
        return None
    except OSError as e:  # ELOOP (a symlink), ENOTDIR (a symlink or file where a folder should be)
        log.warning("refused to read %s: %s", where, e)
        return None
    finally:
        for fd in fds:
            os.close(fd)
