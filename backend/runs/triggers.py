"""Trigger rules: when a node may start, given its upstream nodes' states. No Django here.

Airflow's semantics (airflow.utils.trigger_rule), decided as early as Airflow does: a rule
that can no longer be met ends the node as `upstream_failed` or `skipped` without waiting
for the rest of the upstream. A cancelled upstream counts as failed.
"""
from collections import Counter
from typing import Iterable

RUN, WAIT = "run", "wait"
SKIPPED, UPSTREAM_FAILED = "skipped", "upstream_failed"
_FAILED = ("failed", "upstream_failed", "cancelled")
_DONE = ("success", "skipped", *_FAILED)


def trigger_decide(rule: str, upstream: Iterable[str]) -> str:
    """RUN, WAIT, SKIPPED or UPSTREAM_FAILED for a node with trigger `rule` and these upstream states."""
    states = list(upstream)
    if not states:
        return RUN
    count = Counter("failed" if s in _FAILED else s for s in states)
    total, done = len(states), sum(1 for s in states if s in _DONE)
    success, failed, skipped = count["success"], count["failed"], count["skipped"]
    all_done = done == total

    if rule == "all_success":
        if failed:
            return UPSTREAM_FAILED
        if skipped:
            return SKIPPED
        return RUN if success == total else WAIT
    if rule == "all_failed":
        if success or skipped:
            return SKIPPED
        return RUN if failed == total else WAIT
    if rule == "always":
        return RUN  # as in Airflow: at once, whatever the upstream nodes do
    if rule == "all_done":
        return RUN if all_done else WAIT
    if rule == "all_skipped":
        if success or failed:
            return SKIPPED
        return RUN if skipped == total else WAIT
    if rule == "one_success":
        if success:
            return RUN
        if not all_done:
            return WAIT
        return UPSTREAM_FAILED if failed else SKIPPED
    if rule == "one_failed":
        if failed:
            return RUN
        return SKIPPED if all_done else WAIT
    if rule == "one_done":
        if success or failed:
            return RUN
        return SKIPPED if all_done else WAIT
    if rule == "none_failed":
        if failed:
            return UPSTREAM_FAILED
        return RUN if all_done else WAIT
    if rule == "none_failed_min_one_success":
        if failed:
            return UPSTREAM_FAILED
        if not all_done:
            return WAIT
        return RUN if success else SKIPPED
    if rule == "none_skipped":
        if skipped:
            return SKIPPED
        return RUN if all_done else WAIT
    raise ValueError(f"unknown trigger rule {rule!r}")
