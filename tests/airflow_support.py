"""A real Airflow 3.3 for tests and benchmarks: its own venv (airflow/venv.sh), a fresh
AIRFLOW_HOME with a SQLite database, and, when asked, its servers (api-server, scheduler,
dag-processor) as background processes on 127.0.0.1, stopped by PID.

Settings for fast tests (see the README, "Running on Airflow"): a 2 s DAG-folder refresh
(checked every second), 1 s heartbeats, one parsing process, a fixed JWT secret, a
simple-auth-manager admin with a known password.
"""
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
USERNAME = "loom"
PASSWORD = "loom-tests-only-password"
SERVERS = ("api-server", "scheduler", "dag-processor")


def airflow_venv() -> Path:
    """Airflow's venv, built (or reused) by airflow/venv.sh. Fails, saying why, if it cannot be built."""
    build = subprocess.run(["bash", str(REPO / "airflow" / "venv.sh")], capture_output=True, text=True, timeout=1800)
    assert build.returncode == 0, f"airflow/venv.sh failed:\n{build.stderr[-5000:]}"
    return Path(build.stdout.strip().splitlines()[-1])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def airflow_env(root: Path, dags: Path, **extra: str) -> dict:
    """The environment of every Airflow command run for `root` (its AIRFLOW_HOME is root/home)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "LOOM_"))}
    env.update({
        "AIRFLOW_HOME": str(root / "home"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PARALLELISM": "4",
        # Loom fans out over up to LOOM_MAP_MAX_ITEMS (10,000); Airflow's default is 1,024.
        "AIRFLOW__CORE__MAX_MAP_LENGTH": "10000",
        "AIRFLOW__API_AUTH__JWT_SECRET": "loom-tests-only",
        # Tasks' kernels run from the notebook environment, as on Loom's engine (numpy, scikit-learn...).
        "LOOM_NOTEBOOK_ENV": str(REPO / ".venv-notebook"),
        **extra,
    })
    return env


@dataclass
class Airflow:
    """One Airflow home; `start()` runs its servers (see `server_env` for the settings)."""

    venv: Path
    root: Path
    env: dict
    dags: Path
    port: int = 0
    processes: dict = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def run(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run([str(self.venv / "bin" / "airflow"), *args], env=self.env, capture_output=True,
                              text=True, timeout=timeout)

    def migrate(self) -> None:
        done = self.run("db", "migrate")
        assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-5000:]

    def start(self, *, timeout: float = 120) -> "Airflow":
        """Start api-server, scheduler and dag-processor (LocalExecutor), each in its own process
        group, and wait until the API answers healthy. On failure, stop what started."""
        self.port = free_port()
        passwords = self.root / "passwords.json"
        passwords.write_text(json.dumps({USERNAME: PASSWORD}))
        self.env.update({
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USERNAME}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__API__BASE_URL": self.url,
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.url}/execution/",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "2",
            # The DAG folder is looked at no more often than this (default 5 s), whatever refresh_interval says.
            "AIRFLOW__DAG_PROCESSOR__BUNDLE_REFRESH_CHECK_INTERVAL": "1",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
            "AIRFLOW__SCHEDULER__JOB_HEARTBEAT_SEC": "1",
            # The scheduler's log server would take port 8793 on all interfaces; tests may run twice at once.
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        })
        self.migrate()
        logs = self.root / "logs"
        logs.mkdir(exist_ok=True)
        try:
            for name in SERVERS:
                self._spawn(name, mode="wb")
            self.wait_healthy(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _spawn(self, name: str, *, mode: str) -> None:
        args = [str(self.venv / "bin" / "airflow"), name] + (["--port", str(self.port)] if name == "api-server" else [])
        with open(self.root / "logs" / f"{name}.log", mode) as out:
            self.processes[name] = subprocess.Popen(args, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                                    start_new_session=True, preexec_fn=_die_with_parent)
        (self.root / "pids.json").write_text(json.dumps({n: p.pid for n, p in self.processes.items()}))

    def revive(self, timeout: float = 120) -> list[str]:
        """Start again what exited, as production's supervisor does (docker-compose.yml's restart:
        Airflow 3.3's dag-processor can die of a StaleDataError when a DAG is deleted through the
        API while it deactivates the DAG whose file went). Returns the names it started."""
        dead = [name for name, process in self.processes.items() if process.poll() is not None]
        for name in dead:
            print(f"airflow {name} had exited; starting it again:\n{self.log(name)[-2000:]}")
            self._spawn(name, mode="ab")
        if dead:
            self.wait_healthy(timeout)
        return dead

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            for name, process in self.processes.items():
                assert process.poll() is None, f"airflow {name} exited:\n{self.log(name)[-5000:]}"
            try:
                with urllib.request.urlopen(f"{self.url}/api/v2/monitor/health", timeout=2) as response:
                    health = json.loads(response.read())
                if all(health.get(part, {}).get("status") == "healthy" for part in ("metadatabase", "scheduler")) \
                        and health.get("dag_processor", {}).get("status") == "healthy":
                    return
            except OSError:
                pass
            assert time.monotonic() < deadline, f"Airflow was not healthy within {timeout} s:\n" + \
                "\n".join(f"--- {n}\n{self.log(n)[-3000:]}" for n in self.processes)
            time.sleep(0.5)

    def log(self, name: str) -> str:
        path = self.root / "logs" / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self, grace: float = 10) -> None:
        """TERM each server's process group, then KILL what is still alive after `grace` seconds."""
        for process in self.processes.values():
            _signal_group(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for process in self.processes.values():
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for process in self.processes.values():
            # The group, not just the leader: the executor's task processes and their kernels.
            _signal_group(process.pid, signal.SIGKILL)
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                pass
        self.processes.clear()


def _die_with_parent() -> None:
    """In the child: get SIGTERM when the process that started it dies (a killed test run), so
    that no Airflow outlives it even when no teardown runs. Linux only; elsewhere a no-op."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


def airflow_home(root: Path, **extra: str) -> Airflow:
    """A fresh Airflow home under `root` with an empty DAG folder root/dags (not migrated yet)."""
    dags = root / "dags"
    dags.mkdir(parents=True, exist_ok=True)
    return Airflow(venv=airflow_venv(), root=root, env=airflow_env(root, dags, **extra), dags=dags)
