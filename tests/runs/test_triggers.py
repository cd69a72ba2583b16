import pytest

from runs.triggers import RUN, SKIPPED, UPSTREAM_FAILED, WAIT, trigger_decide


@pytest.mark.parametrize("rule,upstream,expected", [
    ("all_success", [], RUN),
    ("all_success", ["success", "success"], RUN),
    ("all_success", ["success", "running"], WAIT),
    ("all_success", ["failed", "running"], UPSTREAM_FAILED),
    ("all_success", ["upstream_failed", "success"], UPSTREAM_FAILED),
    ("all_success", ["skipped", "success"], SKIPPED),
    ("all_done", ["failed", "skipped", "success"], RUN),
    ("all_done", ["failed", "queued"], WAIT),
    ("one_failed", ["failed", "running"], RUN),
    ("one_failed", ["success", "skipped"], SKIPPED),
    ("one_failed", ["success", "running"], WAIT),
    ("none_failed", ["success", "skipped"], RUN),
    ("none_failed", ["success", "upstream_failed"], UPSTREAM_FAILED),
    ("none_failed", ["cancelled"], UPSTREAM_FAILED),
    ("one_success", ["failed", "success"], RUN),
    ("one_success", ["failed", "failed"], UPSTREAM_FAILED),
    ("one_success", ["skipped"], SKIPPED),
    ("all_failed", ["failed", "upstream_failed"], RUN),
    ("all_failed", ["failed", "success"], SKIPPED),
    ("none_failed_min_one_success", ["skipped", "skipped"], SKIPPED),
    ("none_failed_min_one_success", ["skipped", "success"], RUN),
    ("none_skipped", ["failed", "success"], RUN),
    ("none_skipped", ["skipped", "running"], SKIPPED),
    ("all_skipped", ["skipped"], RUN),
    ("one_done", ["failed", "running"], RUN),
    ("always", ["failed", "skipped"], RUN),
    ("always", ["running", "queued"], RUN),  # Airflow's meaning: no waiting for the upstream
])
def test_trigger_decide(rule, upstream, expected):
    assert trigger_decide(rule, upstream) == expected


def test_every_rule_the_editor_offers_is_decided():
    from workflows.graph import TRIGGER_RULES

    for rule in TRIGGER_RULES:
        trigger_decide(rule, ["success"])
