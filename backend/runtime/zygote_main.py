"""The warm interpreter inside one run's sandbox: imports ipykernel once, then forks a fresh
kernel process for each notebook the worker asks for (runtime/zygote.py). Runs in the notebook
environment, inside the sandbox; standard library and ipykernel only, nothing of Loom.

Protocol on the control socket (a SOCK_SEQPACKET fd the worker passed in, argv[1]): the worker
sends one JSON request per kernel, {"id", "connection_file", "env"}; the forked child answers
{"id"} on the same socket as its first act, so the worker, which has SO_PASSCRED set, reads the
child's pid in its own PID namespace from the message's credentials (and then kills, polls and
limits it like any kernel process). End of file on the socket: the worker let go; the children
are killed and this process exits (bwrap's --die-with-parent covers a killed worker).
"""
import gc
import importlib
import json
import os
import signal
import socket
import sys

# What every kernel imports before its first cell: done once here, shared copy-on-write by each fork.
import ipykernel.ipkernel  # noqa: F401
import ipykernel.kernelapp
import IPython.core.interactiveshell  # noqa: F401
import jupyter_client.session  # noqa: F401
from IPython.core.application import BaseIPythonApplication
from IPython.core.inputtransformer2 import TransformerManager

KERNEL_ARGUMENTS = ["--HistoryManager.enabled=False"]  # as runtime/engine.py's


def _child(control: socket.socket, request: dict) -> None:
    """Become the kernel: own session and process group, the kernel's environment, its work folder."""
    try:
        os.setsid()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        gc.enable()
        control.send(json.dumps({"id": request["id"]}).encode())
        control.close()
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request.get("cwd") or "/loom/work")
        sys.argv = ["ipykernel_launcher", "-f", request["connection_file"], *KERNEL_ARGUMENTS]
        app = ipykernel.kernelapp.IPKernelApp.instance()
        app.connection_file = request["connection_file"]
        # What _configure did before the fork (command line, profile, config files) is not done again.
        BaseIPythonApplication.initialize = lambda self, argv=None: None
        app.initialize()
        app.start()
    finally:
        os._exit(0)


def _configure() -> None:
    """Before any fork: the kernel application's part of initializing that depends on no request
    (its command line, bar the connection file each fork sets, its profile folder and config
    files), done once here instead of in each kernel; and the regular expressions IPython compiles
    for a kernel's first cell (tokenize's, its input transformers'), compiled into the caches each
    fork inherits. Nothing of it is per notebook: no socket, no thread, no namespace."""
    BaseIPythonApplication.initialize(ipykernel.kernelapp.IPKernelApp.instance(), KERNEL_ARGUMENTS)
    TransformerManager().transform_cell("import os\nx = {'a': [1, 2.5, 'b']}  # c\nprint(f'{x}')\n")


def _preload() -> None:
    """Import what a kernel imports while it initializes (debugpy, the shell's extensions...):
    a throwaway child initializes one and names its modules, which this process then imports."""
    names_r, names_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(names_r)
            from jupyter_client.connect import write_connection_file

            folder = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"loom-preload-{os.getpid()}")
            os.makedirs(folder, exist_ok=True)
            path, _ = write_connection_file(fname=f"{folder}/k.json", transport="ipc", ip=f"{folder}/k")
            ipykernel.kernelapp.IPKernelApp.instance().initialize(["-f", path, *KERNEL_ARGUMENTS])
            data = "\n".join(sys.modules).encode()
            while data:
                data = data[os.write(names_w, data):]
        finally:
            os._exit(0)
    os.close(names_w)
    chunks = []
    while chunk := os.read(names_r, 1 << 16):
        chunks.append(chunk)
    os.close(names_r)
    os.waitpid(pid, 0)
    for name in b"".join(chunks).decode().split("\n"):
        if name and name not in sys.modules and not name.startswith("__"):
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - a module that cannot be imported here is imported by the kernel, or not
                pass


def _reap(*_):
    try:
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    except ChildProcessError:
        pass


def main() -> None:
    control = socket.socket(fileno=int(sys.argv[1]))
    gc.disable()
    _preload()
    _configure()
    # What the imports made, out of the collector's sight: a kernel's collections never touch (and
    # so never copy) the pages it shares with this process.
    gc.freeze()
    children: set[int] = set()
    signal.signal(signal.SIGCHLD, _reap)
    while True:
        try:
            data = control.recv(1 << 20)
        except InterruptedError:
            continue
        if not data:
            break
        pid = os.fork()
        if pid == 0:
            _child(control, json.loads(data))
        children.add(pid)
        children = {c for c in children if os.path.exists(f"/proc/{c}")}
    for pid in children:
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass


if __name__ == "__main__":
    main()
