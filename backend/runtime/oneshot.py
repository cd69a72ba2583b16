"""Run one short Python program (a module file) inside a fresh notebook sandbox, with its
network (runtime.sandbox: egress, none or host), feed it stdin, and kill it after a timeout.
No Django. Used by "Test connection" (runtime.connection_check), so the test sees exactly
what a notebook would: same sandbox, same network, same environment.
"""
import json
import os
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

from runtime.sandbox import Sandbox, SandboxConfig


@dataclass
class Finished:
    returncode: int | None  # None: killed at the timeout
    stdout: str
    stderr: str


def sandbox_run(config: SandboxConfig, *, program: Path, stdin: str, timeout_s: float) -> Finished:
    """Run `program` (a .py file, copied into the sandbox's work folder) as a module inside a new
    sandbox of `config`; with `config.enabled` False, unsandboxed with the notebook environment's
    python (LOOM_SANDBOX=off, as notebooks then run)."""
    if not config.enabled:
        return _run([config.python, str(program)], stdin=stdin, timeout_s=timeout_s, env=None, cwd=None)
    sandbox = Sandbox(config, view_at=Path(config.root) / "oneshot-view")
    try:
        copy = sandbox.base / "work" / program.name
        shutil.copyfile(program, copy)
        copy.chmod(0o644)
        module = [config.python, "-m", program.stem]
        if config.network != "egress":
            return _run(sandbox.command(module), stdin=stdin, timeout_s=timeout_s, env=sandbox.environment(),
                        cwd=str(sandbox.base))
        return _run_egress(sandbox, module, stdin=stdin, timeout_s=timeout_s)
    finally:
        sandbox.remove()


def _run(argv, *, stdin: str, timeout_s: float, env, cwd, pass_fds=(), started=None) -> Finished:
    process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env, cwd=cwd, pass_fds=pass_fds, start_new_session=True)
    try:
        if started:
            started(process)
        out, err = process.communicate(stdin, timeout=timeout_s)
        return Finished(process.returncode, out, err)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # bwrap (--die-with-parent) takes the sandbox with it
        out, err = process.communicate()
        return Finished(None, out, err)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _run_egress(sandbox: Sandbox, module: list[str], *, stdin: str, timeout_s: float) -> Finished:
    """As runtime.engine's sandboxed kernel launch: bwrap reports the sandbox's pid on info_fd and
    waits on block_fd until slirp4netns has wired its network; slirp4netns exits with exit_fd."""
    info_r, info_w = os.pipe()
    block_r, block_w = os.pipe()
    exit_r, exit_w = os.pipe()
    opened = {info_r, info_w, block_r, block_w, exit_r, exit_w}

    def close(*fds):
        for fd in fds:
            if fd in opened:  # each once: in a threaded worker a closed number is soon someone else's
                opened.discard(fd)
                os.close(fd)

    def wire(process):
        close(info_w, block_r, exit_w)  # the sandbox holds them now
        info = b""
        while chunk := os.read(info_r, 4096):
            info += chunk
        if not info:
            raise RuntimeError("bubblewrap exited before the sandbox started")
        sandbox.start_network(json.loads(info)["child-pid"], exit_fd=exit_r)
        os.write(block_w, b"1")

    try:
        return _run(sandbox.command(module, info_fd=info_w, block_fd=block_r), stdin=stdin, timeout_s=timeout_s,
                    env=sandbox.environment(), cwd=str(sandbox.base), pass_fds=(info_w, block_r, exit_w), started=wire)
    finally:
        close(*list(opened))
