"""One line per check (``PASS``/``FAIL`` + detail), sections, and the counts of the summary.

Nothing secret goes through here: callers pass statuses, codes and ids, never tokens or keys.
"""

import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Result:
    section: str
    name: str
    passed: bool
    detail: str


class Report:
    def __init__(self, stream=None):
        self.stream = stream or sys.stdout
        self.results: list[Result] = []
        self.current = ""

    def say(self, text: str = "") -> None:
        print(text, file=self.stream, flush=True)

    def section(self, title: str) -> None:
        self.current = title
        self.say(f"\n== {title}")

    def check(self, name: str, passed: bool, detail: str = "") -> bool:
        self.results.append(Result(self.current, name, bool(passed), detail))
        self.say(f"{'PASS' if passed else 'FAIL'}  {name}" + (f" — {detail}" if detail else ""))
        return bool(passed)

    @property
    def passed(self) -> int:
        return sum(result.passed for result in self.results)

    @property
    def failures(self) -> list[Result]:
        return [result for result in self.results if not result.passed]
