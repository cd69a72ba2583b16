"""Benchmark: GET of a workflow under concurrent load, production server against the development one.

    .venv/bin/python bench/api_load.py [--seconds 10] [--workers N] [--database postgres://postgres@127.0.0.1:5432/]
                                       [--against 25aa13c]

On a scratch PostgreSQL database (created and dropped here) with the demo tenant and two
workflows of 200 and 1,000 nodes (layers of ingest → train fanned out over an upstream output →
report), it serves Loom twice, side by side: gunicorn (gunicorn.conf.py, the production configuration;
DEBUG off) and, as
the baseline, Django's development server (`manage.py runserver`, DEBUG on as `make run` has it).
Against each, closed-loop clients (Python threads, a new connection per request, token auth)
GET the workflow for --seconds after a warm-up, and it prints requests/s and latency percentiles,
the ratio against the baseline, and the machine's load (`uptime`) with each figure. It also
prints the CPU time a request costs (the server's processes and its PostgreSQL sessions, from
/proc), which the machine's other load does not change, and the rate 2 idle cores would allow.
runserver opens a database connection per request, whose session is not counted. With
--against, the code alone is compared too: the same GETs in-process with an older commit's code.
On a shared machine the kernel's autogroup scheduling gives each session (each server here) a
fair share of the cores, so requests/s follow the machine's other load; CPU a request does not.

Targets (issue 13), for the production server: the 200-node workflow with 20 clients ≥ 250
requests/s and p95 ≤ 150 ms; the 1,000-node workflow with 20 clients p95 ≤ 500 ms.
"""
import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PY = str(REPO / ".venv" / "bin" / "python")
TARGETS = {(200, 20): (250, 0.150), (1000, 20): (None, 0.500)}


def graph_of(n: int, per_layer: int = 20) -> dict:
    """Layers of 20: ingest, then train fanned out over its parent's `accounts`, then report; each
    node wired to one of the layer before. Valid against the demo notebooks."""
    nodes, edges = [], []
    for i in range(n):
        layer, row = divmod(i, per_layer)
        parent = f"n{(layer - 1) * per_layer + (row * 7) % per_layer}" if layer else None
        node = {"id": f"n{i}", "position": {"x": layer * 320, "y": row * 200}}
        if layer % 3 == 0:
            node |= {"notebook": "ingest.ipynb", "parameters": {"source": f"warehouse{i}"},
                     "outputs": [{"name": "dataset_path", "type": "str"}, {"name": "accounts", "type": "list"}]}
            if parent:
                edges.append({"source": parent, "target": node["id"], "bind": {}})
        elif layer % 3 == 1:
            node |= {"notebook": "train.ipynb", "map_over": f"{parent}.accounts", "map_parameter": "account",
                     "outputs": [{"name": "auc", "type": "float"}]}
            edges.append({"source": parent, "target": node["id"], "bind": {"dataset_path": "input_path"}})
        else:
            node |= {"notebook": "report.ipynb", "parameters": {"threshold": 0.75},
                     "outputs": ["best_account", {"name": "mean_auc", "type": "float"}]}
            edges.append({"source": parent, "target": node["id"], "bind": {"auc": "aucs"}})
        nodes.append(node)
    return {"name": f"Bench {n} nodes", "parameters": [{"name": "run_date", "type": "str", "default": "2026-11-01"}],
            "nodes": nodes, "edges": edges}


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listens on {port} after {timeout} s")


def cpu_seconds(pids) -> dict[int, float]:
    """{pid: user + system CPU seconds it used so far} (Linux /proc)."""
    used = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return used


def cpu_used(before: dict, after: dict) -> float:
    """CPU used between two snapshots by the processes alive at the second (a process that ended
    meanwhile, e.g. a database session closed after CONN_MAX_AGE, is left out: a slight underestimate)."""
    return sum(seconds - before.get(pid, 0) for pid, seconds in after.items())


def process_tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            pid, ppid = int(stat.parent.name), int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError):
            continue
        children.setdefault(ppid, []).append(pid)
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, ()))
    return tree


def get(port: int, path: str, token: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", path, headers={"Authorization": f"Token {token}", "Connection": "close"})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def load(port: int, path: str, token: str, clients: int, seconds: float, cpu_pids, warmup: float = 2.0) -> dict:
    """Closed loop: each client sends its next request when the last one answered. Also the CPU
    the server and its database sessions (`cpu_pids()`) spent per request, warm-up included:
    what the server costs, whatever else the machine runs meanwhile."""
    latencies: list[float] = []
    errors: list[int] = []
    answered = [0]
    start = time.monotonic()
    measure_from, stop_at = start + warmup, start + warmup + seconds

    def client():
        while (now := time.monotonic()) < stop_at:
            try:
                status = get(port, path, token)
            except OSError:
                status = 0
            done = time.monotonic()
            answered[0] += 1
            if now >= measure_from:
                (latencies if status == 200 else errors).append(done - now if status == 200 else status)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    server, database = cpu_pids()
    cpu, server_cpu, db_cpu = time.process_time(), cpu_seconds(server), cpu_seconds(database)
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    cpu = (time.process_time() - cpu) / (warmup + seconds)  # the load generator's own share of the cores
    server_now, database_now = cpu_pids()
    server_cpu = cpu_used(server_cpu, cpu_seconds(server_now)) / max(1, answered[0])
    db_cpu = cpu_used(db_cpu, cpu_seconds(database_now)) / max(1, answered[0])
    latencies.sort()
    pct = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else float("nan")  # noqa: E731
    return {"rps": len(latencies) / seconds, "median": statistics.median(latencies) if latencies else float("nan"),
            "p95": pct(0.95), "p99": pct(0.99), "n": len(latencies), "errors": len(errors), "client_cpu": cpu, "server_cpu": server_cpu + db_cpu,
            "db_cpu": db_cpu,
            "uptime": uptime()}


def sessions(url: str) -> list[int]:
    """The PostgreSQL backends serving the bench's database."""
    import psycopg

    with psycopg.connect(url) as db:
        return [pid for (pid,) in db.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")]


def setup(env: dict) -> tuple[str, dict[int, int]]:
    """Migrate, the demo tenant, the bench workflows; the editor's token and {nodes: workflow id}."""
    subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v0"], cwd=REPO, env=env, check=True)
    script = (
        "import django, json, sys; django.setup()\n"
        "from accounts.services import token_create\n"
        "from django.contrib.auth import get_user_model\n"
        "from workflows.demo import demo_setup\nfrom workflows.services import workflow_create\n"
        "t = demo_setup(); graphs = json.loads(sys.stdin.read())\n"
        "ids = {n: workflow_create(tenant=t, graph=g).workflow_id for n, g in graphs.items()}\n"
        "_, secret = token_create(user=get_user_model().objects.get(username='editor'), name='bench', expires_in_days=1)\n"
        "print(json.dumps({'token': secret, 'ids': ids}))\n"
    )
    graphs = {n: graph_of(n) for n in (200, 1000)}
    out = subprocess.run([PY, "-c", script], cwd=REPO / "backend", env=env, check=True, capture_output=True,
                         text=True, input=json.dumps(graphs))
    made = json.loads(out.stdout.strip().splitlines()[-1])
    return made["token"], {int(n): i for n, i in made["ids"].items()}


def server(kind: str, port: int, env: dict, workers: int) -> subprocess.Popen:
    if kind == "gunicorn":
        # The production configuration (gunicorn.conf.py: sync workers, preloaded app, access log).
        cmd = [str(REPO / ".venv" / "bin" / "gunicorn"), "-c", str(REPO / "gunicorn.conf.py"),
               "--no-control-socket"]  # its default path is per user: two gunicorns would share it
        env = {**env, "LOOM_DEBUG": "0", "LOOM_WEB_BIND": f"127.0.0.1:{port}",
               **({"LOOM_WEB_WORKERS": str(workers)} if workers else {})}
    else:
        cmd = [PY, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]
        # A thread per request: a connection kept per thread would pile up to PostgreSQL's limit.
        env = {**env, "LOOM_DEBUG": "1", "LOOM_DB_CONN_MAX_AGE": "0"}
    return subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


IN_PROCESS = r"""
import json, os, sys, tempfile, time
os.environ.update(LOOM_DATA_DIR=tempfile.mkdtemp(prefix="loom-bench-code-"), LOOM_LOG_LEVEL="ERROR",
                  DJANGO_SETTINGS_MODULE="loom.settings")
os.environ.pop("DATABASE_URL", None)
import django; django.setup()
from django.contrib.auth import get_user_model
from django.core.management import call_command
from rest_framework.test import APIClient
from workflows.demo import demo_setup
from workflows.services import workflow_create
call_command("migrate", verbosity=0)
tenant, graphs, out = demo_setup(), json.loads(sys.stdin.read()), {}
client = APIClient()
client.force_authenticate(get_user_model().objects.get(username="editor"))
for n, graph in graphs.items():
    url = f"/api/tenants/demo/workflows/{workflow_create(tenant=tenant, graph=graph).workflow_id}/"
    assert client.get(url).status_code == 200
    reps = 40 if int(n) <= 200 else 10
    cpu = time.process_time()
    for _ in range(reps):
        client.get(url)
    out[n] = (time.process_time() - cpu) / reps
print(json.dumps(out))
import shutil; shutil.rmtree(os.environ["LOOM_DATA_DIR"], ignore_errors=True)
"""


def code_baseline(ref: str) -> None:
    """The same GETs in-process (Django's test client, SQLite, no server) with this checkout's
    code and with `ref`'s (git archive of backend/ and notebooks/), CPU a request side by side."""
    graphs = json.dumps({n: graph_of(n) for n in (200, 1000)})
    older = Path(tempfile.mkdtemp(prefix="loom-bench-ref-"))
    archive = subprocess.run(["git", "archive", ref, "backend", "notebooks"], cwd=REPO, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(older)], input=archive.stdout, check=True)
    cpu = {}
    for label, tree in ((ref, older), ("this checkout", REPO)):
        env = {**os.environ, "PYTHONPATH": str(tree / "backend"), "LOOM_NOTEBOOKS_DIR": str(tree / "notebooks")}
        out = subprocess.run([PY, "-c", IN_PROCESS], cwd=tree / "backend", env=env, input=graphs, capture_output=True,
                             text=True, check=True)
        cpu[label] = json.loads(out.stdout.strip().splitlines()[-1])
    shutil.rmtree(older)
    print(f"\nCode alone (in-process GET, SQLite, CPU a request) against {ref}:")
    for n in ("200", "1000"):
        new, old = cpu["this checkout"][n], cpu[ref][n]
        print(f"  {n} nodes: {new * 1000:.1f} ms (ratio {new / old:.3f} of {ref}'s {old * 1000:.1f} ms) | {uptime()}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--workers", type=int, help="gunicorn processes (default: gunicorn.conf.py's, 2 per core + 1)")
    parser.add_argument("--database", default=os.environ.get("LOOM_BENCH_DATABASE", "postgres://postgres@127.0.0.1:5432/"),
                        help="a PostgreSQL server where a scratch database may be created")
    parser.add_argument("--against", metavar="GIT_REF",
                        help="also compare the code alone with an older commit's, e.g. 25aa13c (before issue 13's work)")
    args = parser.parse_args()
    if args.against:
        code_baseline(args.against)

    import psycopg

    name = f"loom_bench_api_{os.getpid()}"
    admin_url = args.database.rstrip("/") + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as db:
        db.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "DATABASE_URL": args.database.rstrip("/") + f"/{name}", "LOOM_LOG_LEVEL": "WARNING",
           "LOOM_DATA_DIR": tempfile.mkdtemp(prefix="loom-bench-api-"), "DJANGO_SETTINGS_MODULE": "loom.settings"}
    env.pop("REDIS_URL", None)
    processes = []
    try:
        print(f"setting up: {uptime()}")
        token, ids = setup(env)
        ports = {}
        for kind in ("gunicorn", "runserver"):
            ports[kind] = free_port()
            processes.append(server(kind, ports[kind], env, args.workers))
            wait_listening(ports[kind], processes[-1])
        results = {}
        for nodes, clients in ((200, 1), (200, 20), (1000, 20)):
            path = f"/api/tenants/demo/workflows/{ids[nodes]}/"
            for kind in ("gunicorn", "runserver"):
                assert get(ports[kind], path, token) == 200, f"{kind} does not serve {path}"
                server_pid = processes[("gunicorn", "runserver").index(kind)].pid
                cpu_pids = lambda: (process_tree(server_pid), sessions(env["DATABASE_URL"]))  # noqa: E731
                results[kind, nodes, clients] = r = load(ports[kind], path, token, clients, args.seconds, cpu_pids)
                print(f"  {nodes:>4} nodes, {clients:>2} client(s), {kind:<9}: {r['rps']:6.1f} req/s, median "
                      f"{r['median'] * 1000:6.1f} ms, p95 {r['p95'] * 1000:6.1f} ms, p99 {r['p99'] * 1000:6.1f} ms, "
                      f"{r['n']} requests, {r['errors']} errors, CPU {r['server_cpu'] * 1000:.1f} ms a request (PostgreSQL's "
                      f"{r['db_cpu'] * 1000:.1f}), load generator {r['client_cpu']:.0%} of a core | {r['uptime']}",
                      flush=True)
        print(f"\nGET of a workflow, gunicorn (gunicorn.conf.py, {args.workers or 'default'} workers, DEBUG off) vs "
              "runserver (baseline), PostgreSQL:")
        met = True
        for (nodes, clients) in ((200, 1), (200, 20), (1000, 20)):
            g, b = results["gunicorn", nodes, clients], results["runserver", nodes, clients]
            line = (f"  {nodes} nodes, {clients} client(s): {g['rps']:.0f} req/s (ratio {g['rps'] / b['rps']:.2f}× the "
                    f"baseline's {b['rps']:.0f}), p95 {g['p95'] * 1000:.0f} ms (ratio {g['p95'] / b['p95']:.2f} of the "
                    f"baseline's {b['p95'] * 1000:.0f} ms), median {g['median'] * 1000:.1f} ms; CPU a request "
                    f"{g['server_cpu'] * 1000:.1f} ms (baseline {b['server_cpu'] * 1000:.1f}): at most "
                    f"{os.cpu_count() / g['server_cpu']:.0f} req/s on {os.cpu_count()} idle cores")
            target = TARGETS.get((nodes, clients))
            if target:
                rps, p95 = target
                ok = (rps is None or g["rps"] >= rps) and g["p95"] <= p95 and not g["errors"]
                met &= ok
                line += f"; target {'≥ %d req/s and ' % rps if rps else ''}p95 ≤ {p95 * 1000:.0f} ms: {'met' if ok else 'NOT met'}"
            print(line)
        print(f"  machine: {os.cpu_count()} cores; {uptime()}")
        return 0 if met else 1
    finally:
        for p in processes:
            try:
                os.killpg(p.pid, 15)
            except ProcessLookupError:
                pass
            p.wait(20)
        with psycopg.connect(admin_url, autocommit=True) as db:
            db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    sys.exit(main())
