"""The production layout without containers (scripts/prod-smoke.sh runs this; docs/production.md).

Starts, all on 127.0.0.1 and under one temporary folder: gunicorn with the production settings
(DEBUG off, collected static files, JSON logs, a metrics token), two Loom workers on PostgreSQL
(database loom_prodsmoke, recreated) and Redis (index 15, flushed), and a real Airflow 3.3 from
airflow/venv.sh (tests/airflow_support.py). Then, through the HTTP API with a token, it runs a
workflow on the local engine and on Airflow, checks both succeed, and checks the operator's
side: /healthz, /readyz (with Airflow), /metrics, each worker's kernel-pool metrics, static
files, JSON log lines, no debug pages. Everything it started is stopped at the end, on failure too.
"""
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg
import requests
from cryptography.fernet import Fernet

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.airflow_support import PASSWORD, USERNAME, airflow_home  # noqa: E402
from tests.helpers import notebook_bytes  # noqa: E402

PY = str(REPO / ".venv" / "bin" / "python")
PG = os.environ.get("PROD_SMOKE_POSTGRES", "postgres://postgres@127.0.0.1:5432")
DATABASE = os.environ.get("PROD_SMOKE_DATABASE", "loom_prodsmoke")
REDIS_URL = os.environ.get("PROD_SMOKE_REDIS_URL", "redis://127.0.0.1:6379/15")
T0 = time.monotonic()


def say(message: str) -> None:
    print(f"[{time.monotonic() - T0:5.1f} s] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_recreate() -> None:
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DATABASE}"')


def redis_flush() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


class Processes:
    """Background processes, each in its own process group, stopped together (TERM, then KILL)."""

    def __init__(self, logs: Path):
        self.logs, self.started = logs, {}

    def start(self, name: str, args: list[str], env: dict) -> subprocess.Popen:
        out = open(self.logs / f"{name}.log", "wb")
        process = subprocess.Popen(args, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.started[name] = process
        return process

    def check(self) -> None:
        for name, process in self.started.items():
            assert process.poll() is None, f"{name} exited ({process.returncode}):\n{self.log(name)[-4000:]}"

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def stop(self, grace: float = 15) -> None:
        for process in self.started.values():
            _killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for process in self.started.values():
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for process in self.started.values():
            _killpg(process.pid, signal.SIGKILL)  # the group: kernels, sandboxes, gunicorn's workers
            process.wait()


def _killpg(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


def wait_for(what: str, check, processes: Processes, timeout: float = 90, every: float = 0.3):
    deadline = time.monotonic() + timeout
    while True:
        processes.check()
        try:
            value = check()
            if value:
                return value
        except (OSError, requests.RequestException):
            pass
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        time.sleep(every)


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="loom-prod-smoke-"))
    root.chmod(0o755)  # the sandbox runs kernels as nobody, who must reach the data folder
    logs = root / "logs"
    logs.mkdir()
    processes = Processes(logs)
    airflow = airflow_home(root / "airflow")
    airflow_error: list[BaseException] = []
    airflow_up, finish = threading.Event(), threading.Event()

    def airflow_life() -> None:
        # Started, and stopped, by this thread: Airflow's servers get SIGTERM when the thread that
        # started them ends (tests/airflow_support.py sets PR_SET_PDEATHSIG, which follows the thread).
        try:
            airflow.start(timeout=150)
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            airflow_error.append(error)
        airflow_up.set()
        finish.wait()
        airflow.stop()

    # Airflow takes longest to come up: it starts while Loom is prepared.
    airflow_thread = threading.Thread(target=airflow_life, name="airflow")
    airflow_thread.start()
    signal.signal(signal.SIGTERM, _terminated)
    try:
        run(root, processes, airflow, airflow_up, airflow_error)
        say("prod smoke: OK")
    except BaseException:
        for name in processes.started:
            print(f"--- last lines of {name}.log\n{processes.log(name)[-3000:]}", file=sys.stderr)
        raise
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second TERM must not cut the clean-up short
        processes.stop()
        finish.set()
        airflow_thread.join()
        say(f"stopped everything it started (logs were under {root})")
        if os.environ.get("PROD_SMOKE_KEEP") != "1":
            subprocess.run(["rm", "-rf", str(root)], check=False)


def _terminated(signum, frame):
    raise SystemExit(f"prod smoke: terminated by signal {signum}")


def run(root: Path, processes: Processes, airflow, airflow_up, airflow_error) -> None:
    web_port, metrics_token = free_port(), secrets.token_urlsafe(24)
    base = f"http://127.0.0.1:{web_port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOOM_", "AIRFLOW", "DJANGO"))}
    env.update({
        "DATABASE_URL": f"{PG}/{DATABASE}", "REDIS_URL": REDIS_URL,
        "LOOM_SECRET_KEY": secrets.token_urlsafe(50), "LOOM_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "LOOM_DATA_DIR": str(root / "data"), "LOOM_STATIC_ROOT": str(root / "static"),
        "LOOM_ALLOWED_HOSTS": "127.0.0.1", "LOOM_LOG_FORMAT": "json", "LOOM_METRICS_TOKEN": metrics_token,
        "LOOM_WEB_BIND": f"127.0.0.1:{web_port}", "LOOM_WEB_WORKERS": "3",
        "LOOM_KERNEL_POOL": "2", "LOOM_WORKER_CONCURRENCY": "2",
        "LOOM_AIRFLOW_URL": airflow.url if airflow.port else "", "LOOM_AIRFLOW_USERNAME": USERNAME,
        "LOOM_AIRFLOW_PASSWORD": PASSWORD, "LOOM_AIRFLOW_DAGS_DIR": str(airflow.dags / "loom"),
        "LOOM_AIRFLOW_ARTIFACTS_DIR": str(root / "airflow-artifacts"), "LOOM_AIRFLOW_POLL_S": "0.5",
    })
    assert "LOOM_DEBUG" not in env

    say(f"database {DATABASE}, Redis {REDIS_URL}: fresh")
    database_recreate()
    redis_flush()
    # One process for the three commands: Django starts once.
    setup = ("import sys; sys.path.insert(0, 'backend'); import django; django.setup()\n"
             "from django.core.management import call_command\n"
             "call_command('migrate', interactive=False, verbosity=0)\n"
             "call_command('collectstatic', interactive=False, verbosity=0)\n"
             "call_command('loom_demo')")
    done = subprocess.run([PY, "-c", setup], cwd=REPO, env={**env, "DJANGO_SETTINGS_MODULE": "loom.settings"},
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"migrate, collectstatic, loom_demo:\n{done.stdout}{done.stderr}"
    say("migrated, static files collected, demo tenant made")

    # Loom's Airflow settings need the API server's port, known once Airflow picked it.
    wait_for("Airflow's port", lambda: airflow.port or airflow_error, processes, timeout=60, every=0.1)
    assert not airflow_error, airflow_error
    env["LOOM_AIRFLOW_URL"] = airflow.url

    processes.start("gunicorn", [str(REPO / ".venv" / "bin" / "gunicorn"), "-c", str(REPO / "gunicorn.conf.py")], env)
    worker_ports = []
    for n in (1, 2):
        port = free_port()
        worker_ports.append(port)
        processes.start(f"worker-{n}", [PY, "manage.py", "loom_worker", "-l", "INFO"],
                        {**env, "LOOM_WORKER_METRICS_PORT": str(port), "LOOM_WORKER_READY_FILE": str(root / f"ready-{n}")})
    for n in (1, 2):  # two beats: only the holder of the scheduler lease acts on a tick
        processes.start(f"scheduler-{n}", [PY, "manage.py", "loom_scheduler", "-l", "INFO"], env)
    wait_for("gunicorn answering /healthz", lambda: requests.get(f"{base}/healthz", timeout=2).ok, processes)
    for n in (1, 2):
        wait_for(f"worker {n} consuming with its kernels up", (root / f"ready-{n}").exists, processes)
    say("gunicorn (3 processes), 2 workers and 2 schedulers up")

    wait_for("Airflow healthy", airflow_up.is_set, processes, timeout=180)
    assert not airflow_error, airflow_error
    ready = wait_for("/readyz with Airflow", lambda: requests.get(f"{base}/readyz", timeout=10), processes)
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok", "broker": "ok", "airflow": "ok"}, ready.text
    say(f"Airflow up at {airflow.url}; /readyz: {ready.json()['checks']}")

    api = requests.Session()
    token = api.post(f"{base}/api/auth/token/", json={"username": "editor", "password": "loom-demo"}, timeout=30)
    assert token.status_code == 200, token.text
    api.headers["Authorization"] = f"Token {token.json()['token']}"
    tenant = f"{base}/api/tenants/demo"
    for name, params, cells in (("smoke-make.ipynb", "n = 3", ["items = list(range(n))"]),
                                ("smoke-sum.ipynb", "items = None", ["total = sum(items)"])):
        uploaded = api.post(f"{tenant}/notebooks/", files={"file": (name, notebook_bytes(params, *cells))}, timeout=30)
        assert uploaded.status_code in (200, 201), uploaded.text
    graph = {"name": "prod smoke", "parameters": [], "nodes": [
        {"id": "make", "notebook": "smoke-make.ipynb", "outputs": ["items"], "parameters": {"n": 4}},
        {"id": "sum", "notebook": "smoke-sum.ipynb", "outputs": ["total"]},
    ], "edges": [{"source": "make", "target": "sum", "bind": {"items": "items"}}]}
    saved = api.post(f"{tenant}/workflows/", json=graph, timeout=30)
    assert saved.status_code == 201 and saved.json()["errors"] == [], saved.text
    workflow = saved.json()["id"]

    durations = {}
    for engine, timeout in (("local", 60), ("airflow", 150)):
        started = time.monotonic()
        posted = api.post(f"{tenant}/workflows/{workflow}/runs/", json={"engine": engine, "parameters": {}}, timeout=30)
        assert posted.status_code == 201, posted.text
        run_id = posted.json()["id"]

        def finished():
            detail = api.get(f"{tenant}/runs/{run_id}/", timeout=10).json()
            return detail if detail["status"] not in ("queued", "running") else None

        detail = wait_for(f"the {engine} run", finished, processes, timeout=timeout, every=0.5)
        assert detail["status"] == "success", json.dumps(detail, indent=1)[-4000:]
        nodes = {n["node"]: n for n in detail["nodes"]}
        assert nodes["sum"]["outputs"] == {"total": 6}, nodes["sum"]
        durations[engine] = time.monotonic() - started
        say(f"run on {engine}: success in {durations[engine]:.1f} s (sum of range(4) = {nodes['sum']['outputs']['total']})")

    checks_of_the_operator(base, metrics_token, worker_ports, processes)


def checks_of_the_operator(base: str, metrics_token: str, worker_ports: list[int], processes: Processes) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    assert requests.get(f"{base}/metrics", timeout=10).status_code == 401
    scraped = requests.get(f"{base}/metrics", headers={"Authorization": f"Bearer {metrics_token}"}, timeout=10)
    assert scraped.status_code == 200, scraped.text
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for f in text_string_to_metric_families(scraped.text) for s in f.samples}
    for engine in ("local", "airflow"):
        assert samples.get(("loom_runs", (("engine", engine), ("status", "success")))) == 1, scraped.text
    assert samples[("loom_node_run_duration_seconds_count", (("status", "success"),))] == 4, scraped.text
    assert samples[("loom_queue_messages", (("queue", "loom"),))] == 0, scraped.text
    assert ("loom_airflow_mirror_lag_seconds", ()) in samples, scraped.text
    for port in worker_ports:
        pool = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        assert "loom_kernel_pool_size 2.0" in pool, pool
    say("/metrics: runs by engine and status, 4 node durations, queue empty, mirror lag; each worker's kernel pool")

    # Production serving: no debug pages, hashed static files from WhiteNoise, the editor.
    missing = requests.get(f"{base}/api/no-such-thing/", timeout=10)
    assert missing.status_code == 404 and "detail" in missing.json() and "Traceback" not in missing.text, missing.text
    login = requests.get(f"{base}/admin/login/", timeout=10)
    css = next(part.split('"')[0] for part in login.text.split('href="') if part.startswith("/static/admin/css/base."))
    assert css != "/static/admin/css/base.css", "collectstatic's hashed names are not used"
    static = requests.get(f"{base}{css}", headers={"Accept-Encoding": "gzip"}, timeout=10)
    assert static.status_code == 200 and "immutable" in static.headers["Cache-Control"], static.headers
    assert static.headers.get("Content-Encoding") == "gzip", static.headers
    assert requests.get(f"{base}/", timeout=10).status_code in (200, 503)  # the editor (503 only when not built)
    say(f"DEBUG off (JSON 404), WhiteNoise served {css} compressed and cached for good")

    lines = [line for line in processes.log("gunicorn").splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]
    assert any(r["logger"] == "gunicorn.access" and "/readyz" in r["message"] for r in records), lines[-5:]
    worker_lines = [line for line in processes.log("worker-1").splitlines() if line.startswith("{")]
    assert any(json.loads(line)["message"].startswith("Loom worker ready") for line in worker_lines), worker_lines[-5:]
    say(f"logs: {len(records)} JSON lines from gunicorn, the workers' too")


if __name__ == "__main__":
    main()
