"""Servers "outside" for connection tests: a network namespace of their own, reached from the host
over a veth pair in a private /30, like a database on another machine. A notebook sandbox's
network (egress: slirp4netns with the host's loopback unreachable) reaches them, while the
host's own 127.0.0.1 (Loom's PostgreSQL) stays out of its reach (docs/sandbox.md)."""
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PG_BIN = Path("/usr/lib/postgresql/15/bin")
MARIADBD = Path("/usr/sbin/mariadbd")
# Moto's S3 checks signatures once this many requests were let through: those that set it up.
S3_SETUP = ("create_user", "put_user_policy", "create_access_key", "create_bucket", "put_object")
S3_POLICY = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}'
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
def outside_servers(*, subnet: str | None = None, mariadb=False, s3=False):
    """Yields the servers' address; PostgreSQL 15 on 5432 (user postgres trusted, loom_pw with
    password "right-password-1"), an HTTP server on 8080 echoing Authorization. With `mariadb`,
    a private MariaDB on 3306 of the namespace (loom_pw, the same password; never the host's
    shared server); with `s3`, moto's S3 on 9000 checking credentials, holding bucket "loom-data"
    with one object, for the access key in `outside_servers.s3_key` (id, secret).

    The namespace is held by a process of ours (unshare) and entered by its pid (nsenter), not
    named under /run/netns: `ip netns` remounts that folder, which races with other test runs."""
    # Names and addresses of this process's own: test runs of other checkouts may overlap with it.
    pid = os.getpid()
    subnet = subnet or f"10.204.{pid % 250}"
    host_if, peer_if, host_ip, server_ip = f"loomo{pid}a", f"loomo{pid}b", f"{subnet}.1", f"{subnet}.2"
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
        if mariadb:
            processes.append(_mariadb_start(ns, data))
        if s3:
            processes.append(_s3_start(ns, data, server_ip))
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


def _mariadb_start(ns: list[str], data: Path) -> subprocess.Popen:
    """A MariaDB of its own: its data, socket and pid file under `data`, port 3306 of the namespace."""
    home = data / "mariadb"  # MariaDB runs as mysql: a folder of its own, in `data` (postgres's, opened to pass)
    home.mkdir()
    shutil.chown(home, "mysql", "mysql")
    data.chmod(0o711)
    db, sock, log = home / "db", home / "mariadb.sock", home / "mariadb.log"
    _sh("mariadb-install-db", "--no-defaults", "--user=mysql", f"--datadir={db}", "--auth-root-authentication-method=normal",
        "--skip-test-db")
    server = subprocess.Popen([*ns, str(MARIADBD), "--no-defaults", "--user=mysql", f"--datadir={db}", f"--socket={sock}",
                               f"--pid-file={home / 'mariadb.pid'}", "--port=3306", "--bind-address=0.0.0.0",
                               "--skip-name-resolve", "--innodb-buffer-pool-size=16M", f"--log-error={log}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait(ns, 3306, server, log)
    _sh("mariadb", f"--socket={sock}", "-u", "root", "-e",
        "CREATE USER 'loom_pw'@'%' IDENTIFIED BY 'right-password-1'; CREATE DATABASE warehouse; "
        "GRANT ALL ON warehouse.* TO 'loom_pw'@'%';")
    return server


def _s3_start(ns: list[str], data: Path, server_ip: str) -> subprocess.Popen:
    import boto3

    log = data / "moto.log"
    with open(log, "wb") as out:
        server = subprocess.Popen([*ns, sys.executable, "-m", "moto.server", "-H", "0.0.0.0", "-p", "9000"], stdout=out,
                                  stderr=out, env={**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": str(len(S3_SETUP))})
    _wait(ns, 9000, server, log)
    setup = {"endpoint_url": f"http://{server_ip}:9000", "region_name": "us-east-1",
             "aws_access_key_id": "setup", "aws_secret_access_key": "setup"}
    iam, s3 = boto3.client("iam", **setup), boto3.client("s3", **setup)
    iam.create_user(UserName="loom")
    iam.put_user_policy(UserName="loom", PolicyName="s3", PolicyDocument=S3_POLICY)
    key = iam.create_access_key(UserName="loom")["AccessKey"]
    s3.create_bucket(Bucket="loom-data")
    s3.put_object(Bucket="loom-data", Key="hello.txt", Body=b"hello")
    outside_servers.s3_key = (key["AccessKeyId"], key["SecretAccessKey"])
    return server


def can_make_namespaces() -> bool:
    return os.geteuid() == 0 and all(map(shutil.which, ("ip", "unshare", "nsenter"))) and (PG_BIN / "initdb").exists()
