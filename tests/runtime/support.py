"""The kernel pool of the runtime tests: one helper, so every module gets the same patient pool;
and the outside server the sandbox's egress tests reach."""
import os
import subprocess
import time

import pytest

from runtime.kernels import KernelPool


class PatientPool(KernelPool):
    """A KernelPool whose `take` waits (up to `wait_s`) for a pre-started kernel instead of
    answering None (between two starts, or while a loaded machine starts one): these tests are
    about what a pre-started kernel does, and with None the notebook would run in a fresh,
    unsandboxed kernel instead."""

    def take(self, kernel_name: str, wait_s: float = 60):
        if kernel_name != self.kernel_name:
            return None
        deadline = time.monotonic() + wait_s
        while (km := super().take(kernel_name, wait_s=5)) is None:
            assert time.monotonic() < deadline, f"the pool started no kernel in {wait_s:g} s"
            time.sleep(0.05)
        return km


def kernel_pool(**kwargs) -> PatientPool:
    """A started pool of 2 kernels (sandboxed with `sandbox=`), refilled as soon as one is taken."""
    return PatientPool(size=2, quiet_s=0, **kwargs).start()


@pytest.fixture
def outside_server():
    """A web server in a network namespace of its own, reached over a veth pair in a private /30:
    the only place the egress tests talk to (tests/runtime/test_sandbox.py, tests/runs/test_sandbox.py).
    Names and addresses are this process's own, so test runs in parallel do not collide."""
    pid = os.getpid()
    ns, host_if, peer_if = f"loomsbx-{pid}", f"lsbx{pid}a", f"lsbx{pid}b"
    n = pid % 16384  # one /30 of 10.203.0.0/16 per process
    prefix, base = f"10.203.{n // 64}.", (n % 64) * 4
    host_ip, server_ip = f"{prefix}{base + 1}", f"{prefix}{base + 2}"

    def sh(*cmd):
        subprocess.run(cmd, check=True, capture_output=True)

    subprocess.run(["ip", "netns", "del", ns], capture_output=True)
    sh("ip", "netns", "add", ns)
    server = None
    try:
        sh("ip", "link", "add", host_if, "type", "veth", "peer", "name", peer_if)
        sh("ip", "link", "set", peer_if, "netns", ns)
        sh("ip", "addr", "add", f"{host_ip}/30", "dev", host_if)
        sh("ip", "link", "set", host_if, "up")
        sh("ip", "-n", ns, "addr", "add", f"{server_ip}/30", "dev", peer_if)
        sh("ip", "-n", ns, "link", "set", peer_if, "up")
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        server = subprocess.Popen(["ip", "netns", "exec", ns, "python3", "-c",
                                   "import http.server as h\n"
                                   "class H(h.BaseHTTPRequestHandler):\n"
                                   "    def do_GET(self):\n        self.send_response(200); self.end_headers(); self.wfile.write(b'hello from outside')\n"
                                   "h.HTTPServer(('0.0.0.0', 8080), H).serve_forever()"])
        for _ in range(50):
            if subprocess.run(["ip", "netns", "exec", ns, "python3", "-c",
                               "import socket; socket.create_connection(('127.0.0.1', 8080), 1)"],
                              capture_output=True).returncode == 0:
                break
            time.sleep(0.1)
        yield f"http://{server_ip}:8080/"
    finally:
        if server:
            server.kill()
            server.wait()
        subprocess.run(["ip", "link", "del", host_if], capture_output=True)
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


# A runaway file (5 MB), and a cell trying to lift RLIMIT_FSIZE again (`seen`: the hard limit it kept).
BIG_FILE = "with open('big', 'wb') as f:\n    for _ in range(10):\n        f.write(b'x' * 500_000)"
LIFT = ("import resource\ntry:\n    resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY,) * 2)\n"
        "    seen = 'lifted'\nexcept (ValueError, OSError):\n    seen = str(resource.getrlimit(resource.RLIMIT_FSIZE)[1])")
