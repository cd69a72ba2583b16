"""The kernel pool of the runtime tests: one helper, so every module gets the same patient pool."""
import time

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


# A runaway file (5 MB), and a cell trying to lift RLIMIT_FSIZE again (`seen`: the hard limit it kept).
BIG_FILE = "with open('big', 'wb') as f:\n    for _ in range(10):\n        f.write(b'x' * 500_000)"
LIFT = ("import resource\ntry:\n    resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY,) * 2)\n"
        "    seen = 'lifted'\nexcept (ValueError, OSError):\n    seen = str(resource.getrlimit(resource.RLIMIT_FSIZE)[1])")
