"""Every kernel in its own bubblewrap sandbox. Standard library only, no Django: DAG files carry
this file verbatim, like execute.py.

A `Sandbox` is one kernel's: a private host folder (mode 0700) holding the kernel's
connection file and sockets (`conn/`), its writable work folder (`work/`, seen as /loom/work),
its temporary folder (`tmp/`, seen as /tmp) and a read-only view (`view/`, mounted at
`view_at`). `command()` wraps the kernel's command line in `bwrap`; inside, the kernel sees
the system's /usr, a few files of /etc, the notebook environment (read-only) and those folders,
nothing else: no Loom data directory, no other tenant's or kernel's files, no /proc of the
worker (own PID namespace), a clean environment and uid 1000. When the worker runs as root,
bwrap itself runs as `nobody` (setpriv), so the kernel is no root outside either and the
process limit holds (the kernel never exempts root from RLIMIT_NPROC).

The kernel may be started before its notebook is known (the pool): `enter(cwd, shared)` then
fills the view so that the notebook's folder path leads (by a symlink) to /loom/work and the
files already under `shared` (upstream nodes of the same run) appear read-only (hard links
on a read-only mount), and `leave(cwd)` moves what the notebook wrote into `cwd`.

Limits are rlimits set by a tiny launcher inside the sandbox, in the kernel's own user
namespace (no cgroup v2 here): RLIMIT_DATA (memory a process can write to) and RLIMIT_NPROC
(processes and threads of the sandbox). Network: `egress` gives the sandbox its own network
namespace wired to the outside by slirp4netns with the host's loopback unreachable, `none`
an empty one, `host` the worker's.
"""
import fcntl
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

try:
    # In a DAG file, which compiles each of runtime/ itself (dag_templates/dag.py.j2): its own copy.
    _trees = _loom("runtime/trees.py")  # noqa: F821 - set by the DAG file's loader
except NameError:
    from runtime import trees as _trees

WORK = "/loom/work"
SANDBOX_UID = 1000
NETWORKS = ("egress", "none", "host")
NOBODY = 65534
# What a node run shows when its notebook ran unsandboxed, on either engine (runs/worker.py; on
# Airflow, dags/airflow_tasks.py logs it and Loom's mirror reads it back).
UNSANDBOXED_WARNING = ("This notebook ran WITHOUT a sandbox (LOOM_SANDBOX=off on its worker): it could read "
                       "the worker's files and secrets.")
NS_GET_USERNS = 0xB701  # ioctl: the user namespace owning a namespace (linux/nsfs.h)
# What Python, SSL, DNS and fonts read in /etc; the host's /etc is never mounted whole.
ETC = ("ssl", "ca-certificates", "ca-certificates.conf", "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime",
       "nsswitch.conf", "fonts", "mime.types", "protocols", "services", "host.conf", "gai.conf")
SYSTEM_DIRS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
# Inside the sandbox: set the limits, say on fd `s` (when >= 0) that bwrap built the sandbox, then
# become the kernel (argv: memory MB, max processes, fd, kernel args).
LAUNCHER = (
    "import os,resource,runpy,sys\n"
    "m,p,s=int(sys.argv[1]),int(sys.argv[2]),int(sys.argv[3])\n"
    "m and resource.setrlimit(resource.RLIMIT_DATA,(m<<20,m<<20))\n"
    "p and resource.setrlimit(resource.RLIMIT_NPROC,(p,p))\n"
    "s>=0 and (os.write(s,b'1'),os.close(s))\n"
    "del sys.argv[1:4]\n"
    "runpy.run_module(sys.argv.pop(1),run_name='__main__',alter_sys=True)"
)


class SandboxUnavailable(RuntimeError):
    """The sandbox cannot be built here, and LOOM_SANDBOX is not explicitly off."""


@dataclass(frozen=True)
class SandboxConfig:
    """Platform settings, read from the environment by `sandbox_config`."""

    enabled: bool = True
    network: str = "egress"
    memory_mb: int = 2048
    max_procs: int = 256
    env_dir: str = ""  # the notebook environment's prefix (its bin/python runs the kernel)
    root: str = ""  # where per-kernel folders live (same filesystem as the artifacts, for hard links)

    @property
    def python(self) -> str:
        return str(Path(self.env_dir) / "bin" / "python")

    @property
    def unsandboxed_python(self) -> str | None:
        """What runs a kernel with LOOM_SANDBOX=off: still the notebook environment, when there is one."""
        return self.python if self.env_dir and Path(self.python).exists() else None


def sandbox_config(environ: Mapping[str, str] | None = None, *, root: str | Path | None = None) -> SandboxConfig:
    """LOOM_SANDBOX (on|off), LOOM_SANDBOX_NETWORK (egress|none|host), LOOM_KERNEL_MEMORY_MB,
    LOOM_KERNEL_MAX_PROCS, LOOM_NOTEBOOK_ENV (default: .venv-notebook of the checkout).
    Raises ValueError naming a bad value."""
    env = os.environ if environ is None else environ
    mode = env.get("LOOM_SANDBOX", "on").strip().lower()
    if mode not in ("on", "off"):
        raise ValueError(f"LOOM_SANDBOX is {mode!r}; use 'on' or 'off'.")
    network = env.get("LOOM_SANDBOX_NETWORK", "egress").strip().lower()
    if network not in NETWORKS:
        raise ValueError(f"LOOM_SANDBOX_NETWORK is {network!r}; use one of {', '.join(NETWORKS)}.")
    default_env = Path(__file__).resolve().parents[2] / ".venv-notebook" if Path(__file__).is_file() else ""
    return SandboxConfig(
        enabled=mode == "on", network=network,
        memory_mb=_positive(env, "LOOM_KERNEL_MEMORY_MB", 2048), max_procs=_positive(env, "LOOM_KERNEL_MAX_PROCS", 256),
        env_dir=env.get("LOOM_NOTEBOOK_ENV") or str(default_env),
        root=str(root or env.get("LOOM_SANDBOX_DIR") or Path(tempfile.gettempdir()) / "loom-sandboxes"),
    )


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "")
    try:
        value = int(raw) if raw.strip() else default
    except ValueError:
        value = 0
    if value <= 0:
        raise ValueError(f"{name} is {raw!r}; it must be a positive whole number.")
    return value


_probed: dict[SandboxConfig, str | None] = {}


def sandbox_problem(config: SandboxConfig) -> str | None:
    """Why a sandbox cannot be built with `config`, or None when it can. Runs a trivial
    sandbox once per config and process (~20 ms)."""
    if config not in _probed:
        _probed[config] = _probe(config)
    return _probed[config]


def _probe(config: SandboxConfig) -> str | None:
    fix = "Install bubblewrap and slirp4netns (see docs/sandbox.md, 'Where notebooks run'), or set LOOM_SANDBOX=off to run notebooks unsandboxed."
    if not shutil.which("bwrap"):
        return f"bubblewrap (bwrap) is not installed. {fix}"
    if config.network == "egress" and not shutil.which("slirp4netns"):
        return f"slirp4netns is not installed (needed by LOOM_SANDBOX_NETWORK=egress). {fix}"
    if not Path(config.python).exists():
        return f"The notebook environment {config.env_dir} has no bin/python; run `make install`. {fix}"
    sandbox = Sandbox(config, view_at="/loom/view")
    try:
        argv = sandbox.command([config.python, "-m", "getpass"])  # any module, through the launcher
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30, env=sandbox.environment())
    except (OSError, subprocess.SubprocessError) as e:
        return f"bubblewrap could not start a sandbox: {e}. {fix}"
    finally:
        sandbox.remove()
    if done.returncode != 0:
        why = (done.stderr.strip() or done.stdout.strip())[-300:]
        nobody = f" (run by root, the sandbox runs as nobody, who must be able to reach {config.root} and {config.env_dir})" \
            if os.geteuid() == 0 else ""
        return f"bubblewrap could not start a sandbox{nobody}: {why}. {fix}"
    return None


class Sandbox:
    """One kernel's sandbox: its private folder, its bwrap command line and its workspace.

    `view_at` is the folder whose path the notebook's own folder (`cwd`) and the shared files
    have: `enter` only serves a cwd under it.
    """

    def __init__(self, config: SandboxConfig, *, view_at: str | Path):
        self.config = config
        self.view_at = Path(view_at)
        self.as_nobody = os.geteuid() == 0
        self.uid = NOBODY
        self.cwd: Path | None = None  # the notebook's folder, once entered
        os.makedirs(config.root, mode=0o711, exist_ok=True)
        # Named after this process, so that a restarted worker can sweep what a killed one left.
        self.base = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=config.root))
        self.memory_mb, self.max_procs = config.memory_mb, config.max_procs
        self.sources: dict[str, str] = {}  # limit -> where it came from, when not the platform's setting
        for name in ("conn", "work", "tmp", "view", "etc"):
            (self.base / name).mkdir(mode=0o700)
        self._etc()
        if self.as_nobody:
            for path in [self.base, *(self.base / n for n in ("conn", "work", "tmp", "view"))]:
                os.chown(path, NOBODY, NOBODY)
        self.slirp: subprocess.Popen | None = None

    @property
    def connection_dir(self) -> Path:
        """Where the kernel's connection file and Unix sockets go (bound into this sandbox only)."""
        return self.base / "conn"

    def _etc(self) -> None:
        etc = self.base / "etc"
        (etc / "passwd").write_text(f"loom:x:{SANDBOX_UID}:{SANDBOX_UID}:notebook:/tmp:/usr/sbin/nologin\n")
        (etc / "group").write_text(f"loom:x:{SANDBOX_UID}:\n")
        (etc / "hosts").write_text("127.0.0.1 localhost loom-kernel\n::1 localhost\n")
        (etc / "hostname").write_text("loom-kernel\n")
        if self.config.network == "egress":
            (etc / "resolv.conf").write_text("nameserver 10.0.2.3\n")  # slirp4netns's DNS forwarder
        for name in ("passwd", "group", "hosts", "hostname", "resolv.conf"):
            if (etc / name).exists():
                (etc / name).chmod(0o644)
        etc.chmod(0o755)

    def environment(self) -> dict[str, str]:
        """The kernel's whole environment: nothing of the worker's. Per-notebook variables
        (connections) are set inside the kernel at run time, never on a command line."""
        return {"PATH": f"{self.config.env_dir}/bin:/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "TMPDIR": "/tmp",
                "LANG": "C.UTF-8", "USER": "loom", "MPLBACKEND": "agg", "MPLCONFIGDIR": "/tmp/.matplotlib",
                "PYTHONNOUSERSITE": "1", "VIRTUAL_ENV": self.config.env_dir}

    def command(self, kernel_cmd: list[str], *, info_fd: int | None = None, block_fd: int | None = None,
                started_fd: int | None = None, extra_ro: tuple[tuple[str, str], ...] = ()) -> list[str]:
        """`kernel_cmd` (python -m module args...) run inside this sandbox, with the config's
        python, under the launcher that sets the limits (and writes a byte on `started_fd`).
        `extra_ro`: (host path, sandbox path) pairs also mounted read-only (runtime/zygote.py's code)."""
        c = self.config
        argv = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--"] if self.as_nobody else []
        argv += ["bwrap", "--unshare-all", "--die-with-parent", "--new-session",
                 "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--hostname", "loom-kernel"]
        if c.network == "host":
            argv += ["--share-net"]
        argv += ["--ro-bind", "/usr", "/usr", "--proc", "/proc", "--dev", "/dev"]
        for name in SYSTEM_DIRS:
            path = Path("/", name)
            if path.is_symlink():
                argv += ["--symlink", os.readlink(path), str(path)]
            elif path.is_dir():
                argv += ["--ro-bind", str(path), str(path)]
        for name in ETC:
            argv += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
        if c.network == "host":
            argv += ["--ro-bind-try", "/etc/resolv.conf", "/etc/resolv.conf"]
        for path in sorted((self.base / "etc").iterdir()):
            argv += ["--ro-bind", str(path), f"/etc/{path.name}"]
        # The private /tmp first: bwrap mounts in order, so an environment or a view that lives
        # under /tmp on the host (a checkout in /tmp, say) is mounted over it, not hidden by it.
        argv += ["--bind", str(self.base / "tmp"), "/tmp"]
        for path in self.read_only_mounts():
            argv += ["--ro-bind", path, path]
        for host, inside in extra_ro:
            argv += ["--ro-bind", host, inside]
        argv += ["--bind", str(self.base / "work"), WORK,
                 "--ro-bind", str(self.base / "view"), str(self.view_at),
                 "--bind", str(self.connection_dir), str(self.connection_dir),
                 "--chdir", WORK, "--setenv", "JPY_PARENT_PID", "1"]  # 1: no parent poller (bwrap kills the kernel with its parent)
        if info_fd is not None:
            argv += ["--info-fd", str(info_fd)]
        if block_fd is not None:
            argv += ["--block-fd", str(block_fd)]
        module_args = list(kernel_cmd[kernel_cmd.index("-m") + 1:]) if "-m" in kernel_cmd else list(kernel_cmd[1:])
        started = -1 if started_fd is None else started_fd
        return argv + ["--", c.python, "-c", LAUNCHER, str(c.memory_mb), str(c.max_procs), str(started), *module_args]

    def read_only_mounts(self) -> list[str]:
        """The notebook environment and, when it is a venv of an interpreter outside /usr, that
        interpreter's prefix. A per-workflow environment would be one more entry here."""
        mounts = [self.config.env_dir]
        cfg = Path(self.config.env_dir) / "pyvenv.cfg"
        if cfg.exists():
            for line in cfg.read_text().splitlines():
                key, _, value = line.partition("=")
                if key.strip() == "home" and not value.strip().startswith("/usr/"):
                    mounts.append(str(Path(value.strip()).parent))
        return mounts

    def start_network(self, child_pid: int, *, exit_fd: int) -> None:
        """Wire the sandbox's network namespace to the outside (egress): slirp4netns, as the
        sandbox's own user, with the host's loopback unreachable; it exits when `exit_fd` (a
        pipe whose other end only the sandbox holds) closes. Returns once the interface is up."""
        # bwrap nests the sandbox's user namespace inside the one owning its network namespace:
        # slirp4netns must join that owner (NS_GET_USERNS) to have the right to enter the network.
        netns = os.open(f"/proc/{child_pid}/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        userns = fcntl.ioctl(netns, NS_GET_USERNS)
        ready_r, ready_w = os.pipe()
        # Run by root it needs no user namespace (/dev/net/tun is often root's only), and then
        # confines itself: own mount namespace, capabilities dropped, a seccomp filter.
        confine = ["--enable-sandbox", "--enable-seccomp"] if os.geteuid() == 0 else [f"--userns-path=/proc/self/fd/{userns}"]
        try:
            self.slirp = subprocess.Popen(
                ["slirp4netns", "--configure", "--mtu=65520", "--disable-host-loopback", *confine,
                 "--netns-type=path", f"--ready-fd={ready_w}",
                 f"--exit-fd={exit_fd}", f"/proc/self/fd/{netns}", "tap0"],
                pass_fds=(ready_w, exit_fd, netns, userns), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE, start_new_session=True,
            )
            os.close(ready_w)
            ready_w = -1
            if os.read(ready_r, 1) != b"1":
                err = self.slirp.stderr.read().decode(errors="replace") if self.slirp.poll() is not None else ""
                raise SandboxUnavailable(f"slirp4netns did not bring the sandbox's network up: {err.strip()[-300:]}")
        finally:
            for fd in (ready_r, netns, userns):
                os.close(fd)
            if ready_w >= 0:
                os.close(ready_w)

    def enter(self, *, cwd: str | Path, shared: str | Path | None = None) -> None:
        """Make `cwd` (a folder under view_at) the notebook's writable folder, and the files now
        under `shared` (default: cwd's parent) readable, before the notebook starts."""
        cwd, shared = Path(cwd).absolute(), Path(shared).absolute() if shared else Path(cwd).absolute().parent
        if not cwd.is_relative_to(self.view_at) or cwd == self.view_at:
            raise ValueError(f"{cwd} is not under this sandbox's view {self.view_at}")
        view = self.base / "view"
        if shared.is_relative_to(self.view_at) and shared.is_dir():
            _trees.link_tree(shared, view / shared.relative_to(self.view_at), skip=cwd)
        target = view / cwd.relative_to(self.view_at)
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        target.unlink(missing_ok=True)
        target.symlink_to(WORK)
        self.cwd = cwd
        for existing in cwd.iterdir() if cwd.is_dir() else ():  # an earlier attempt's files
            if existing.is_file() and not existing.is_symlink():
                _trees.link_or_copy(existing, self.base / "work" / existing.name)

    def leave(self) -> None:
        """Move what the notebook wrote into its folder (when `enter` named one): regular files
        and folders, never symlinks (a link made inside the sandbox points elsewhere outside it)."""
        if self.cwd is not None and (self.base / "work").is_dir():
            _trees.move_tree(self.base / "work", self.cwd)
        self.cwd = None

    def limit(self, *, memory_mb: int | None = None, max_procs: int | None = None,
              sources: Mapping[str, str] | None = None) -> None:
        """Lower this kernel's limits for one node (never above the platform's, which the
        kernel started with as hard limits); applied by `prologue()`. `sources` says where each
        came from (runtime.limits.Limits.kernel), for the message when one is hit."""
        self.memory_mb = min(memory_mb or self.config.memory_mb, self.config.memory_mb)
        self.max_procs = min(max_procs or self.config.max_procs, self.config.max_procs)
        asked = {"memory_mb": memory_mb, "max_procs": max_procs}
        # A source holds for the value it set; a value this sandbox capped is its setting's.
        self.sources = {k: v for k, v in (sources or {}).items() if k in asked and asked[k] == getattr(self, k)}

    def prologue(self) -> str:
        """Code the kernel runs before the notebook: the node's lower limits, if any."""
        code = ""
        if self.memory_mb < self.config.memory_mb:
            code += f"_r.setrlimit(_r.RLIMIT_DATA, ({self.memory_mb << 20}, {self.memory_mb << 20}))\n"
        if self.max_procs < self.config.max_procs:
            code += f"_r.setrlimit(_r.RLIMIT_NPROC, ({self.max_procs}, {self.max_procs}))\n"
        return f"import resource as _r\n{code}del _r\n" if code else ""

    def explain(self, message: str) -> str:
        """What to add to a failure's message when a limit of this sandbox likely caused it,
        naming where the limit came from."""
        if "MemoryError" in message or "out of memory" in message:
            source = self.sources.get("memory_mb", "LOOM_KERNEL_MEMORY_MB")
            return f" The kernel's memory limit is {self.memory_mb} MB per process ({source})."
        if "BlockingIOError" in message or "Resource temporarily unavailable" in message or "can't start new thread" in message:
            source = self.sources.get("max_procs", "LOOM_KERNEL_MAX_PROCS")
            return f" The kernel's process limit is {self.max_procs} processes and threads ({source})."
        return ""

    def network_stop(self) -> None:
        """Stop and reap slirp4netns (it also exits by itself with the sandbox)."""
        if self.slirp is not None:
            try:
                self.slirp.kill()
                self.slirp.wait(timeout=5)
            except (OSError, subprocess.SubprocessError):
                pass
            self.slirp = None

    def remove(self) -> None:
        """Delete the sandbox's folder and reap slirp4netns."""
        self.network_stop()
        shutil.rmtree(self.base, ignore_errors=True)


def sandbox_info(config: SandboxConfig) -> str:
    """One line for logs: what the sandbox is set to."""
    if not config.enabled:
        return "sandbox OFF (LOOM_SANDBOX=off): notebooks run as the worker's user and see what it sees"
    return json.dumps({"network": config.network, "memory_mb": config.memory_mb, "max_procs": config.max_procs,
                       "env": config.env_dir})


def sandboxed_kernel(kernel_name: str, *, view_at: str | Path, kernel_manager, environ: Mapping[str, str] | None = None):
    """A not yet started kernel manager in a fresh sandbox configured from the environment, for
    callers without a worker (Airflow tasks); `kernel_manager` is runtime/execute.py's (passed in:
    DAG files load both files themselves). Raises SandboxUnavailable naming why it cannot be built."""
    env = os.environ if environ is None else environ
    config = sandbox_config({**env, "LOOM_SANDBOX": "on"})
    if not config.env_dir or not Path(config.python).exists():
        raise SandboxUnavailable(f"LOOM_NOTEBOOK_ENV ({config.env_dir or 'unset'}) has no bin/python: set it to the "
                                 "notebook environment kernels run from.")
    problem = sandbox_problem(config)
    if problem:
        raise SandboxUnavailable(problem)
    return kernel_manager(kernel_name, sandbox=Sandbox(config, view_at=view_at))


def task_kernel(kernel_name: str, *, view_at: str | Path, kernel_manager, environ: Mapping[str, str] | None = None) -> dict:
    """How an Airflow task runs its kernel, as runtime/execute.py's keyword arguments: in a fresh
    sandbox when the task's environment sets LOOM_SANDBOX=on (off by default there: Airflow's
    workers may not allow user namespaces), else from the notebook environment, as the local
    engine's unsandboxed kernels do (SandboxConfig.unsandboxed_python), and then with `warning`
    (UNSANDBOXED_WARNING) too, which the task takes out and reports for its node run."""
    env = os.environ if environ is None else environ
    config = sandbox_config({**env, "LOOM_SANDBOX": env.get("LOOM_SANDBOX") or "off"})
    if config.enabled:
        # The run's folder is the view: the task writes its own folder and reads its upstreams'.
        return {"kernel_manager": sandboxed_kernel(kernel_name, view_at=view_at, kernel_manager=kernel_manager, environ=env),
                "shared": view_at}
    return {"warning": UNSANDBOXED_WARNING,
            **({"kernel_python": config.unsandboxed_python} if config.unsandboxed_python else {})}

