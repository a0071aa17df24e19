"""The controlled clock of the tests (the ``clock`` fixture of conftest.py), on time-machine."""

import datetime

import time_machine
from django.utils import timezone

CLOCK_START = datetime.datetime(2026, 1, 15, 9, 0, tzinfo=datetime.UTC)


class Clock:
    """The frozen time of a test: ``move_to`` an instant, ``shift`` by a duration, ``now``."""

    def __init__(self, traveller: time_machine.Traveller):
        self._traveller = traveller

    def move_to(self, destination: datetime.datetime | str) -> None:
        if isinstance(destination, str):
            destination = datetime.datetime.fromisoformat(destination)
        if timezone.is_naive(destination):
            raise ValueError("give the clock an aware datetime (with a time zone)")
        self._traveller.move_to(destination, tick=False)

    def shift(self, delta: datetime.timedelta | float) -> None:
        self._traveller.shift(delta)

    def now(self) -> datetime.datetime:
        return timezone.now()


def frozen_clock(start: datetime.datetime = CLOCK_START):
    """A started travel and its Clock; call ``travel.stop()`` when done."""
    travel = time_machine.travel(start, tick=False)
    return travel, Clock(travel.start())
