"""Limits on what one notebook may produce: output values, the executed notebook, its streams, its
files. No Django here, and only the standard library at import time: DAG files carry this source,
and loom/settings.py imports it.

A notebook is untrusted code, and what it produces flows into the worker's memory, the database
and every poll of the run. So each limit is applied where the data arrives, not afterwards:
- stdout/stderr: the kernel trims what it sends past `stream_max_bytes` (runtime/outputs.py), and the
  worker counts each stream message as it arrives and drops what is over (never kept in the
  notebook object), so a kernel that undoes its trimming is cut all the same; the cell gets a
  visible marker saying how much was cut and which setting cut it;
- the executed notebook: every other output (plots, tables, HTML) counts towards
  `notebook_max_bytes`; past it, further outputs are dropped with a marker. Outputs a cell clears
  give their room back. Error outputs are always kept, trimmed to ERROR_MAX_CHARS;
- declared output values: the collector cell measures each value's JSON in the kernel, and the
  worker measures it again as the message arrives; a value over `output_max_bytes` fails the node
  naming the limit (large data belongs in artifacts_dir);
- files: the kernel sets its own RLIMIT_FSIZE = `node_bytes_max` before the first cell, for itself
  and the processes it starts (one runaway file stops at the limit with "File too large"), and
  after the notebook its folder is counted against `node_files_max` and `node_bytes_max`; a
  tenant's whole folder against its quota (`tenant_quota_problem`) before each notebook starts;
- the kernel's memory and processes: chosen here (`Limits.kernel`: the node's, else the
  tenant's, else the platform's, never above the platform's), enforced by runtime/sandbox.py.
Each limit names its setting (`LOOM_...`) in the message, so a user knows what to ask for.
The accounting of outputs as they arrive (streams, the notebook, output values) is runtime/outputs.py.
"""
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Mapping

# The setting behind each limit: the environment variable of both engines (Loom's worker reads
# them in loom/settings.py, a DAG's task from the Airflow worker's environment).
SETTINGS = {
    "output_max_bytes": "LOOM_OUTPUT_MAX_BYTES",
    "notebook_max_bytes": "LOOM_NOTEBOOK_OUTPUT_MAX_BYTES",
    "stream_max_bytes": "LOOM_STREAM_MAX_BYTES",
    "node_files_max": "LOOM_NODE_FILES_MAX",
    "node_bytes_max": "LOOM_NODE_ARTIFACTS_MAX_MB",
    "timeout_default_s": "LOOM_NODE_TIMEOUT_S",
    "timeout_max_s": "LOOM_NODE_TIMEOUT_MAX_S",
    "tenant_bytes_max": "LOOM_TENANT_ARTIFACTS_MAX_MB",
}
# Settings given in units other than bytes or seconds.
SCALE = {"node_bytes_max": 10**6, "tenant_bytes_max": 10**6}
DEFAULTS = {
    "output_max_bytes": 1_000_000,
    "notebook_max_bytes": 20_000_000,
    "stream_max_bytes": 10_000_000,
    "node_files_max": 10_000,
    "node_bytes_max": 10_000_000_000,
    # An hour: the local engine is the interactive one, and a forgotten loop holds one of a
    # worker's few notebook slots (and a tenant's quota) until it ends. Longer jobs say so.
    "timeout_default_s": 3600,
    # A day: a slot held longer is a bug, not a job; long batch work belongs on Airflow.
    "timeout_max_s": 86400,
    "tenant_bytes_max": 50_000 * 10**6,
}
# The kernel's limits, which the sandbox enforces (runtime/sandbox.py; its config holds the
# platform's values, read from these settings, which are both the default and the maximum):
# the node's field -> (the tenant's field, the platform's setting, the unit in messages).
KERNEL_LIMITS = {
    "memory_mb": ("node_memory_mb", "LOOM_KERNEL_MEMORY_MB", "MB per process"),
    "max_procs": ("node_max_procs", "LOOM_KERNEL_MAX_PROCS", "processes and threads"),
}
def size_text(n: int) -> str:
    """Bytes for a person, in decimal units, 3 digits at most: 512 bytes, 1.5 KB, 52.4 MB, 187 MB."""
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if n >= scale:
            value = n / scale
            return f"{value:.0f} {unit}" if value >= 100 else f"{value:.3g} {unit}"
    return f"{n} bytes"


@dataclass(frozen=True)
class Limits:
    """What one notebook may produce; None means unlimited. `timeout_source` says where the
    notebook's timeout came from (the node's timeout_s, a default or the platform maximum), for
    the message when it fires."""

    output_max_bytes: int | None = None
    notebook_max_bytes: int | None = None
    stream_max_bytes: int | None = None
    node_files_max: int | None = None
    node_bytes_max: int | None = None
    timeout_default_s: float | None = None
    timeout_max_s: float | None = None
    timeout_source: str = "the node's timeout_s"
    tenant_bytes_max: int | None = None
    # The kernel's limits (None: the sandbox's own) and where each came from, set by `kernel`.
    memory_mb: int | None = None
    max_procs: int | None = None
    sources: tuple = ()  # ((field, source), ...): hashable, as the dataclass is frozen

    def timeout(self, node_s: float | None, tenant_s: float | None = None) -> tuple[float | None, "Limits"]:
        """The whole-notebook timeout of a node, and these limits naming where it came from: the
        node's timeout_s, else the tenant's default, else LOOM_NODE_TIMEOUT_S; never more than
        LOOM_NODE_TIMEOUT_MAX_S."""
        if node_s:
            seconds, source = node_s, "the node's timeout_s"
        elif tenant_s:
            seconds, source = tenant_s, "the tenant's default timeout for nodes without timeout_s"
        else:
            seconds = self.timeout_default_s
            source = f"{SETTINGS['timeout_default_s']}, the default for nodes without timeout_s"
        if seconds and self.timeout_max_s and seconds > self.timeout_max_s:
            seconds, source = self.timeout_max_s, (f"{SETTINGS['timeout_max_s']}, the platform maximum; "
                                                   f"{source} asked for {seconds:g} s")
        return seconds, replace(self, timeout_source=source)

    def kernel(self, *, node: Mapping, tenant: Mapping, platform) -> "Limits":
        """These limits with the kernel's memory_mb and max_procs: the node's own field, else the
        tenant's default (node_memory_mb, node_max_procs), else the platform's (`platform`: an
        object with memory_mb and max_procs, the sandbox's config); never above the platform's."""
        chosen, sources = {}, []
        for key, (tenant_field, setting, unit) in KERNEL_LIMITS.items():
            top = getattr(platform, key)
            if node.get(key):
                value, source = node[key], f"the node's {key}"
            elif tenant.get(tenant_field):
                value, source = tenant[tenant_field], f"the tenant's {tenant_field}"
            else:
                value, source = top, setting
            if top and value > top:
                value, source = top, f"{setting}, the platform maximum; {source} asked for {value:,} {unit.split()[0]}"
            chosen[key] = value
            sources.append((key, source))
        return replace(self, **chosen, sources=tuple(sources))

    def kernel_source(self, key: str) -> str:
        """Where the kernel's `key` limit (memory_mb, max_procs) came from."""
        return dict(self.sources).get(key, KERNEL_LIMITS[key][1])

    def too_large_message(self, name: str, size: int) -> str:
        """Why output `name`, `size` bytes of JSON, fails the node."""
        return (f"Output '{name}' is {size_text(size)} of JSON; the limit is {size_text(self.output_max_bytes)} "
                f"({SETTINGS['output_max_bytes']}): write large data to artifacts_dir and output its path.")

    def files_problem(self, folder: str | Path | None) -> str | None:
        """Why the node's folder breaks a limit (too many files, too many bytes), or None.
        Symlinks count as files and are not followed."""
        if folder is None or (self.node_files_max is None and self.node_bytes_max is None):
            return None
        files, total = folder_usage(folder)
        if self.node_files_max is not None and files > self.node_files_max:
            return (f"The node wrote {files:,} files in its folder; the limit is "
                    f"{self.node_files_max:,} per node ({SETTINGS['node_files_max']}).")
        if self.node_bytes_max is not None and total > self.node_bytes_max:
            return (f"The node wrote {size_text(total)} in its folder; the limit is "
                    f"{size_text(self.node_bytes_max)} per node ({SETTINGS['node_bytes_max']}).")
        return None

    def kernel_code(self) -> str:
        """Code the kernel runs (silently) before the notebook: RLIMIT_FSIZE = node_bytes_max, soft
        and hard, on itself and so on every process it starts. Set from inside, since a worker may
        not set another user's limits from outside (a root worker without CAP_SYS_RESOURCE, as in a
        container, cannot prlimit a sandbox's kernel, which runs as nobody: the limit was silently
        missing). The notebook cannot raise it again: lowering a hard limit is for good without
        CAP_SYS_RESOURCE, which a sandboxed kernel never has. Never raises one already lower."""
        if self.node_bytes_max is None:
            return ""
        n = self.node_bytes_max
        return ("import resource as _r\n_h = _r.getrlimit(_r.RLIMIT_FSIZE)[1]\n"
                f"_n = {n} if _h == _r.RLIM_INFINITY else min({n}, _h)\n"
                "_r.setrlimit(_r.RLIMIT_FSIZE, (_n, _n))\ndel _r, _h, _n\n")

    @property
    def file_too_large_hint(self) -> str:
        return (f"one file may be at most {size_text(self.node_bytes_max)}: {SETTINGS['node_bytes_max']}"
                if self.node_bytes_max else "")


def tenant_quota_problem(*, tenant: str, used: int, platform_bytes: int | None, own_mb: int | None) -> str | None:
    """Why a tenant whose artifacts take `used` bytes may not start a node, or None. Its quota is
    its own `own_mb` (artifacts_quota_mb) when lower than the platform's, else the platform's;
    both engines ask this before each notebook."""
    own = own_mb * 10**6 if own_mb else None
    quota, setting = ((own, "the tenant's artifacts_quota_mb") if own and (not platform_bytes or own < platform_bytes)
                      else (platform_bytes, SETTINGS["tenant_bytes_max"]))
    if not quota or used <= quota:
        return None
    return (f"Tenant '{tenant}' has {size_text(used)} of artifacts; the limit is {size_text(quota)} ({setting}). "
            "Delete old runs' artifacts, or ask an admin for more room.")


def limits_from_env(environ: Mapping[str, str]) -> Limits:
    """The limits set by LOOM_* variables of `environ`, else DEFAULTS; "0" or "" means unlimited."""
    values = {}
    for key, var in SETTINGS.items():
        raw = environ.get(var)
        value = DEFAULTS[key] if raw is None else float(raw or 0) * SCALE.get(key, 1)
        values[key] = (value if key.startswith("timeout") else int(value)) or None
    return Limits(**values)


def folder_usage(folder: str | Path) -> tuple[int, int]:
    """(files, bytes) under `folder`, without following symlinks; (0, 0) when it does not exist."""
    files = total = 0
    stack = [str(folder)]
    while stack:
        try:
            entries = os.scandir(stack.pop())
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            continue
        with entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                    continue
                files += 1
                try:
                    total += entry.stat(follow_symlinks=False).st_size
                except FileNotFoundError:
                    pass
    return files, total
