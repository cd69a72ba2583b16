"""Which logical dates a schedule makes due (schedules.timetable): pure, the clock passed in."""
from datetime import datetime, timezone

from workflows.timetable import describe, due_slots, next_fire_times, slots_between


def at(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def test_catchup_runs_every_missed_slot_oldest_first_within_the_limit():
    slots = due_slots("@hourly", start_date="2026-01-01", catchup=True, last=None,
                      now=at(2026, 1, 1, 3, 30), limit=10)
    assert [s.logical_date for s in slots] == [at(2026, 1, 1, h) for h in range(4)]
    # The data interval ends at the logical date and starts at the fire before.
    assert (slots[1].data_interval_start, slots[1].data_interval_end) == (at(2026, 1, 1, 0), at(2026, 1, 1, 1))
    limited = due_slots("@hourly", start_date="2026-01-01", catchup=True, last=at(2026, 1, 1, 0),
                        now=at(2026, 1, 1, 3, 30), limit=2)
    assert [s.logical_date for s in limited] == [at(2026, 1, 1, 1), at(2026, 1, 1, 2)]


def test_without_catchup_only_the_newest_slot_is_due():
    # As on Airflow: a new deployment runs the newest slot at once.
    fresh = due_slots("@hourly", start_date="2026-01-01", catchup=False, last=None, now=at(2026, 3, 1, 10, 45), limit=5)
    assert [s.logical_date for s in fresh] == [at(2026, 3, 1, 10)]
    # A scheduler down since 11:00 skips what it missed and runs the newest.
    back = due_slots("@hourly", start_date="2026-01-01", catchup=False, last=at(2026, 3, 1, 11), now=at(2026, 3, 1, 16, 10),
                     limit=5)
    assert [s.logical_date for s in back] == [at(2026, 3, 1, 16)]
    assert due_slots("@hourly", start_date="2026-01-01", catchup=False, last=at(2026, 3, 1, 16), now=at(2026, 3, 1, 16, 59),
                     limit=5) == []
    # Nothing before the start date.
    assert due_slots("@hourly", start_date="2026-04-01", catchup=False, last=None, now=at(2026, 3, 1), limit=5) == []


def test_once_runs_at_the_start_date_and_nothing_before_it():
    assert due_slots("@once", start_date="2026-05-01", catchup=False, last=None,
                     now=at(2026, 4, 30), limit=1) == []
    [slot] = due_slots("@once", start_date="2026-05-01", catchup=False, last=None,
                       now=at(2026, 5, 2), limit=1)
    assert slot.logical_date == at(2026, 5, 1)
    assert due_slots("@once", start_date="2026-05-01", catchup=False, last=at(2026, 5, 1),
                     now=at(2026, 6, 1), limit=1) == []


def test_backfill_slots_are_inclusive_and_next_fire_times_follow_now():
    slots = slots_between("0 2 * * *", at(2026, 2, 1, 2), at(2026, 2, 3, 2))
    assert [s.logical_date for s in slots] == [at(2026, 2, d, 2) for d in (1, 2, 3)]
    assert next_fire_times("@daily", start_date="2026-01-01", now=at(2026, 2, 1, 12), count=2) == [
        at(2026, 2, 2), at(2026, 2, 3)]
    # Not before the start date.
    assert next_fire_times("@daily", start_date="2027-01-01", now=at(2026, 2, 1), count=1) == [at(2027, 1, 1)]


def test_the_schedule_in_words():
    assert describe("0 2 * * *") == "At 02:00 (UTC)"
    assert describe("@daily") == "At 00:00 (UTC)"
    assert describe(None) == ""
    assert describe("@continuous").startswith("continuously")
