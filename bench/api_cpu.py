"""Benchmark: the CPU one GET of a workflow costs, in the server and in PostgreSQL.

    .venv/bin/python bench/api_cpu.py [--database postgres://postgres@127.0.0.1:5432/loom_api]
                                      [--reps 200] [--profile 200] [--conditional]

The production request path without the HTTP server: Loom's WSGI application (every middleware,
DEBUG off, token auth with a real `Authorization: Token` header) called in this process on a
WSGI environ, as gunicorn's sync workers call it, against a PostgreSQL database (emptied and
migrated here) holding the demo tenant and the 200- and 1,000-node workflows of
bench/api_load.py. CPU time, not wall-clock: this process's (time.process_time) and its
PostgreSQL session's (from /proc), per request, which other load on the machine does not change.
`--profile N` prints cProfile's top functions (CPU time) over the GETs of the N-node workflow;
`--conditional` also measures GETs that send the ETag back (a 304). `--against GIT_REF` measures
that commit's code too (git archive of backend/ and notebooks/), alternating rounds with this
checkout's, so that both see the same machine.
"""
import argparse
import cProfile
import io
import json
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))


def backend_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/loom_api")
    parser.add_argument("--reps", type=int, default=200, help="GETs of the 200-node workflow (a fifth for 1,000)")
    parser.add_argument("--profile", type=int, choices=(200, 1000), help="cProfile GETs of this workflow")
    parser.add_argument("--conditional", action="store_true", help="also GETs that send the ETag back (If-None-Match)")
    parser.add_argument("--against", metavar="GIT_REF", help="also measure this commit's code, e.g. main")
    parser.add_argument("--rounds", type=int, default=3, help="with --against: alternating rounds of each")
    parser.add_argument("--tree", default=str(REPO), help=argparse.SUPPRESS)  # whose backend/ to measure
    args = parser.parse_args()
    if args.against:
        return compare(args)
    sys.path.insert(0, str(Path(args.tree) / "backend"))
    os.environ["LOOM_NOTEBOOKS_DIR"] = str(Path(args.tree) / "notebooks")
    os.environ.update(DATABASE_URL=args.database, LOOM_DEBUG="0", LOOM_LOG_LEVEL="WARNING",
                      LOOM_DATA_DIR=tempfile.mkdtemp(prefix="loom-bench-cpu-"), DJANGO_SETTINGS_MODULE="loom.settings")
    os.environ.pop("REDIS_URL", None)

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from accounts.services import token_create
    from api_load import graph_of
    from loom.wsgi import application
    from workflows.demo import demo_setup
    from workflows.services import workflow_create

    call_command("migrate", "--noinput", verbosity=0)
    call_command("flush", "--noinput", verbosity=0)
    tenant = demo_setup()
    ids = {n: workflow_create(tenant=tenant, graph=graph_of(n)).workflow_id for n in (200, 1000)}
    _, secret = token_create(user=get_user_model().objects.get(username="editor"), name="bench-cpu", expires_in_days=1)

    def environ(path: str, **headers) -> dict:
        return {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
                "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
                "HTTP_HOST": "127.0.0.1:8000", "HTTP_AUTHORIZATION": f"Token {secret}", "wsgi.url_scheme": "http",
                "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr, "wsgi.multithread": False,
                "wsgi.multiprocess": True, "wsgi.run_once": False, "wsgi.version": (1, 0), **headers}

    def get(path: str, **headers) -> tuple[str, dict, bytes]:
        answer = {}
        body = application(environ(path, **headers), lambda status, h: answer.update(status=status, headers=dict(h)))
        try:
            content = b"".join(body)
        finally:
            body.close()  # request_finished: what gunicorn does after each response
        return answer["status"], answer["headers"], content

    def measure(path: str, reps: int, **headers) -> tuple[float, float]:
        status, _, _ = get(path, **headers)  # warm: the connection, caches
        cpu, db = time.process_time(), backend_cpu(connection.connection.info.backend_pid)
        for _ in range(reps):
            get(path, **headers)
        pid = connection.connection.info.backend_pid  # the same session: CONN_MAX_AGE keeps it
        return (time.process_time() - cpu) / reps, (backend_cpu(pid) - db) / reps

    paths = {n: f"/api/tenants/demo/workflows/{i}/" for n, i in ids.items()}
    for n, path in paths.items():
        status, headers, body = get(path)
        assert status.startswith("200"), (status, body[:300])
        print(f"{n} nodes: {len(body) / 1024:.0f} KiB body, {len(json.loads(body)['graph']['nodes'])=}", flush=True)
    if args.profile:
        profile = cProfile.Profile(time.process_time)  # CPU, not waits for PostgreSQL
        profile.enable()
        for _ in range(args.reps if args.profile == 200 else max(1, args.reps // 5)):
            get(paths[args.profile])
        profile.disable()
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(45)
        pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(30)
        print(out.getvalue())
    total = 0.0
    for n, path in paths.items():
        reps = args.reps if n == 200 else max(1, args.reps // 5)
        server, db = measure(path, reps)
        print(f"GET {n:>4} nodes: {(server + db) * 1000:5.2f} ms CPU a request (server {server * 1000:.2f}, "
              f"PostgreSQL {db * 1000:.2f}); 2 idle cores: ~{2 / (server + db):.0f} req/s", flush=True)
        if args.conditional:
            _, headers, _ = get(path)
            etag = headers.get("ETag")
            if not etag:
                print("  no ETag")
                continue
            status, _, _ = get(path, HTTP_IF_NONE_MATCH=etag)
            server, db = measure(path, reps, HTTP_IF_NONE_MATCH=etag)
            print(f"  with If-None-Match ({status}): {(server + db) * 1000:5.2f} ms CPU (server {server * 1000:.2f}, "
                  f"PostgreSQL {db * 1000:.2f})", flush=True)
    shutil.rmtree(os.environ["LOOM_DATA_DIR"], ignore_errors=True)
    return 0


def compare(args) -> int:
    """This checkout's code and `args.against`'s, in alternating rounds; the lowest figure of each."""
    older = Path(tempfile.mkdtemp(prefix="loom-bench-ref-"))
    archive = subprocess.run(["git", "archive", args.against, "backend", "notebooks"], cwd=REPO, capture_output=True,
                             check=True)
    subprocess.run(["tar", "-x", "-C", str(older)], input=archive.stdout, check=True)
    best: dict[tuple[str, str], float] = {}
    try:
        for _ in range(args.rounds):
            for label, tree in ((args.against, older), ("this checkout", REPO)):
                out = subprocess.run([sys.executable, __file__, "--tree", str(tree), "--database", args.database,
                                      "--reps", str(args.reps)], capture_output=True, text=True, check=True).stdout
                for line in out.splitlines():
                    if line.startswith("GET"):
                        nodes, cpu = line.split()[1], float(line.split(":")[1].split()[0])
                        best[label, nodes] = min(cpu, best.get((label, nodes), cpu))
    finally:
        shutil.rmtree(older)
    for nodes in ("200", "1000"):
        new, old = best["this checkout", nodes], best[args.against, nodes]
        print(f"GET {nodes:>4} nodes: {new:.2f} ms CPU a request (server and PostgreSQL), {args.against}'s {old:.2f} "
              f"(ratio {new / old:.2f}); 2 idle cores: ~{2000 / new:.0f} req/s ({args.against}: ~{2000 / old:.0f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
