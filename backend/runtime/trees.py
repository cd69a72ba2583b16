"""A kernel's folders, filled and emptied: hard-link mirrors and moves that never follow a
symlink (what a notebook wrote may point anywhere). Standard library only: DAG files carry it
verbatim, like runtime/sandbox.py, which uses it."""
import os
import shutil
from pathlib import Path


def link_tree(src: Path, dst: Path, *, skip: Path) -> None:
    """Mirror `src` into `dst` with hard links (copies across filesystems); no symlinks followed."""
    dst.mkdir(parents=True, exist_ok=True, mode=0o755)
    for entry in os.scandir(src):
        path = Path(entry.path)
        if path == skip or entry.is_symlink():
            continue
        if entry.is_dir(follow_symlinks=False):
            link_tree(path, dst / entry.name, skip=skip)
        elif entry.is_file(follow_symlinks=False):
            link_or_copy(path, dst / entry.name)


def link_or_copy(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst, follow_symlinks=False)
    except OSError:
        shutil.copy2(src, dst, follow_symlinks=False)


def move_tree(src: Path, dst: Path) -> None:
    dst.mkdir(parents=True, exist_ok=True)
    for entry in os.scandir(src):
        target = dst / entry.name
        if entry.is_symlink():
            continue
        if entry.is_dir(follow_symlinks=False):
            move_tree(Path(entry.path), target)
        elif entry.is_file(follow_symlinks=False):
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            os.replace(entry.path, target) if _same_fs(entry.path, dst) else shutil.copy2(entry.path, target)


def _same_fs(a: str, b: Path) -> bool:
    return os.stat(a).st_dev == os.stat(b).st_dev


def sandboxes_sweep(root: str | Path) -> int:
    """Remove the sandbox folders that processes no longer running left (a killed worker's);
    returns how many."""
    swept = 0
    for entry in Path(root).glob("*-*") if Path(root).is_dir() else ():
        pid = entry.name.split("-", 1)[0]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(entry, ignore_errors=True)
            swept += 1
    return swept
