"""The kernel pool of the runtime tests: one helper, so every module gets the same patient pool."""
import time

from runtime.kernels import KernelPool


class PatientPool(KernelPool):
    """A KernelPool whose `take` waits (up to `wait_s`) for a pre-started kernel instead of
    answering None: on a loaded machine a kernel takes seconds to start, and these tests are about
    what a pre-started kernel does."""

    def take(self, kernel_name: str, wait_s: float = 60):
        deadline = time.monotonic() + wait_s
        while True:
            km = super().take(kernel_name, wait_s=1)
            if km is not None or kernel_name != self.kernel_name or time.monotonic() > deadline:
                return km


def kernel_pool(**kwargs) -> PatientPool:
    """A started pool of 2 kernels (sandboxed with `sandbox=`), refilled as soon as one is taken."""
    return PatientPool(size=2, quiet_s=0, **kwargs).start()
