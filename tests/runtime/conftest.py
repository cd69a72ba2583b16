import pytest

from tests.runtime.support import kernel_pool


@pytest.fixture(scope="module")
def pool():
    """Unsandboxed pre-started kernels (tests/runtime/test_sandbox.py has a sandboxed pool of its own)."""
    p = kernel_pool()
    yield p
    p.close()
