"""When a schedule is due: logical dates and data intervals from a workflow's `schedule`,
`start_date` and `catchup` (croniter does the cron arithmetic). No Django here, no clock:
callers pass `now`, so tests drive time.

A cron run's logical date is the fire time it stands for, and its data interval is
[the previous fire time, the logical date). @once runs once, at start_date; @continuous
starts a run whenever none is active (the caller decides that). Times are UTC.
"""
from datetime import date, datetime, timedelta, timezone
from typing import Iterator, NamedTuple

from croniter import croniter

# Presets croniter does not know, as cron expressions (Airflow's meaning).
PRESETS = {"@hourly": "0 * * * *", "@daily": "0 0 * * *", "@weekly": "0 0 * * 0", "@monthly": "0 0 1 * *",
           "@quarterly": "0 0 1 */3 *", "@yearly": "0 0 1 1 *"}
ONCE, CONTINUOUS = "@once", "@continuous"


class Slot(NamedTuple):
    logical_date: datetime
    data_interval_start: datetime
    data_interval_end: datetime


def cron_of(schedule: str) -> str | None:
    """The cron expression of a schedule; None for @once, @continuous and no schedule."""
    if not schedule or schedule in (ONCE, CONTINUOUS):
        return None
    return PRESETS.get(schedule, schedule)


def start_of(start_date: str) -> datetime:
    return datetime.combine(date.fromisoformat(str(start_date)), datetime.min.time(), tzinfo=timezone.utc)


def slot_at(cron: str, fire: datetime) -> Slot:
    """The slot whose logical date is the fire time `fire`."""
    previous = croniter(cron, fire).get_prev(datetime)
    return Slot(fire, previous, fire)


def fire_times(cron: str, *, after: datetime, until: datetime) -> Iterator[datetime]:
    """Fire times t with after < t <= until, oldest first."""
    it = croniter(cron, after)
    while True:
        t = it.get_next(datetime)
        if t > until:
            return
        yield t


def slots_between(cron: str, start: datetime, end: datetime) -> list[Slot]:
    """Every slot whose logical date is in [start, end] (a backfill's dates)."""
    return [slot_at(cron, t) for t in fire_times(cron, after=start - timedelta(microseconds=1), until=end)]


def due_slots(schedule: str, *, start_date: str, catchup: bool, last: datetime | None, now: datetime,
              limit: int) -> list[Slot]:
    """The slots a scheduler should start now, oldest first, at most `limit`.

    `last`: the newest logical date already scheduled (None: none yet). With catchup every slot
    after `last` (else from start_date) up to `now` is due; without it only the newest one, as
    Airflow does (a new deployment runs the newest slot at once).
    """
    cron = cron_of(schedule)
    start = start_of(start_date)
    if cron is None or limit <= 0:
        if schedule == ONCE and last is None and start <= now and limit > 0:
            return [Slot(start, start, start)]
        return []
    after = last if last is not None else start - timedelta(microseconds=1)
    if not catchup:
        newest = croniter(cron, now + timedelta(microseconds=1)).get_prev(datetime)
        return [slot_at(cron, newest)] if newest > after else []
    slots = []
    for t in fire_times(cron, after=after, until=now):
        slots.append(slot_at(cron, t))
        if len(slots) >= limit:
            break
    return slots


def next_fire_times(schedule: str, *, start_date: str, now: datetime, count: int = 5) -> list[datetime]:
    """The next `count` fire times after `now` (for the workflow panel)."""
    cron = cron_of(schedule)
    if cron is None:
        return []
    it = croniter(cron, max(now, start_of(start_date) - timedelta(microseconds=1)))
    return [it.get_next(datetime) for _ in range(count)]


_WORDS = {ONCE: "once, on the start date", CONTINUOUS: "continuously: a new run as soon as the last one ends"}


def describe(schedule: str | None) -> str:
    """The schedule in words ("At 02:00"), by cron-descriptor; "" for no schedule."""
    if not schedule:
        return ""
    if schedule in _WORDS:
        return _WORDS[schedule]
    from cron_descriptor import Options, get_description

    options = Options()
    options.use_24hour_time_format = True
    options.verbose = False
    return get_description(cron_of(schedule), options) + " (UTC)"
