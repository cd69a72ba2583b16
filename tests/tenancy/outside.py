"""Servers "outside" for connection tests: a network namespace of their own, reached from the host
over a veth pair in a private /30, like a database on another machine. A notebook sandbox's
network (egress: slirp4netns with the host's loopback unreachable) reaches them, while the
host's own 127.0.0.1 (Loom's PostgreSQL) stays out of its reach (docs/sandbox.md)."""
import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

PG_BIN = Path("/usr/lib/postgresql/15/bin")
# A password-checked role; everything else is trusted (from this private /30 only).
HBA = "host all loom_pw 0.0.0.0/0 scram-sha-256\nhost all all 0.0.0.0/0 trust\nlocal all all trust\n"
# Answers 401 and echoes the credentials it was sent, as careless APIs do: the secret reaches the error.
ECHO = ("import http.server as h\n"
        "class H(h.BaseHTTPRequestHandler):\n"
        "    def do_GET(self):\n"
        "        body = ('invalid credentials: ' + str(self.headers.get('Authorization'))).encode()\n"
        "        self.send_response(200 if self.path == '/ok' else 401); self.end_headers(); self.wfile.write(body)\n"
        "h.HTTPServer(('0.0.0.0', 8080), H).serve_forever()")


def _sh(*cmd):
    subprocess.run(cmd, check=True, capture_output=True)


def _wait(ns: list[str], port: int, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60  # the machine may be busy
    while subprocess.run([*ns, "python3", "-c",
                          f"import socket; socket.create_connection(('127.0.0.1', {port}), 1)"],
                         capture_output=True).returncode:
        assert server.poll() is None, f"the server on {port} in {ns} exited: {log.read_text()[-2000:]}"
        assert time.monotonic() < deadline, f"nothing listens on {port} in {ns}: {log.read_text()[-2000:]}"
        time.sleep(0.2)


@contextlib.contextmanager
def outside_servers(*, subnet="10.203.79"):
    """Yields the servers' address; PostgreSQL 15 on 5432 (user postgres trusted, loom_pw with
    password "right-password-1"), an HTTP server on 8080 echoing Authorization.

    The namespace is held by a process of ours (unshare) and entered by its pid (nsenter), not
    named under /run/netns: `ip netns` remounts that folder, which races with other test runs."""
    host_if, peer_if, host_ip, server_ip = "loomadm0", "loomadm1", f"{subnet}.1", f"{subnet}.2"
    subprocess.run(["ip", "link", "del", host_if], capture_output=True)
    data = Path(tempfile.mkdtemp(prefix="loom-outside-pg-"))
    holder = subprocess.Popen(["unshare", "--net", "sleep", "infinity"])
    ns = ["nsenter", "-t", str(holder.pid), "-n"]
    processes = []
    try:
        deadline = time.monotonic() + 10
        while os.readlink(f"/proc/{holder.pid}/ns/net") == os.readlink("/proc/self/ns/net"):
            assert time.monotonic() < deadline, "unshare did not make a network namespace"
            time.sleep(0.05)
        _sh("ip", "link", "add", host_if, "type", "veth", "peer", "name", peer_if)
        _sh("ip", "link", "set", peer_if, "netns", str(holder.pid))
        _sh("ip", "addr", "add", f"{host_ip}/30", "dev", host_if)
        _sh("ip", "link", "set", host_if, "up")
        _sh(*ns, "ip", "addr", "add", f"{server_ip}/30", "dev", peer_if)
        _sh(*ns, "ip", "link", "set", peer_if, "up")
        _sh(*ns, "ip", "link", "set", "lo", "up")
        shutil.chown(data, "postgres", "postgres")
        as_pg = ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups"]
        _sh(*as_pg, str(PG_BIN / "initdb"), "-D", str(data / "db"), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        (data / "db" / "pg_hba.conf").write_text(HBA)
        processes.append(subprocess.Popen(
            [*ns, *as_pg, str(PG_BIN / "postgres"), "-D", str(data / "db"), "-k", str(data),
             "-c", "listen_addresses=*", "-p", "5432", "-c", "fsync=off"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        echo_log = data / "echo.log"
        with open(echo_log, "wb") as log:
            processes.append(subprocess.Popen([*ns, "python3", "-c", ECHO], stdout=log, stderr=log))
        _wait(ns, 8080, processes[-1], echo_log)
        deadline = time.monotonic() + 30
        while subprocess.run([*as_pg, str(PG_BIN / "psql"), "-h", str(data), "-U", "postgres", "-c",
                              "CREATE ROLE loom_pw LOGIN PASSWORD 'right-password-1'"], capture_output=True).returncode:
            assert time.monotonic() < deadline, "the outside PostgreSQL did not start"
            time.sleep(0.2)
        with socket.create_connection((server_ip, 5432), timeout=5):  # reachable from the host too
            pass
        yield server_ip
    finally:
        for p in processes:
            p.terminate()
        for p in processes:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        holder.kill()
        holder.wait()
        subprocess.run(["ip", "link", "del", host_if], capture_output=True)
        shutil.rmtree(data, ignore_errors=True)


def can_make_namespaces() -> bool:
    return os.geteuid() == 0 and all(map(shutil.which, ("ip", "unshare", "nsenter"))) and (PG_BIN / "initdb").exists()
