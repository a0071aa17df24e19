"""What the fake provider portal knows: its accounts, their bills and how each account behaves.

An account's ``mode`` chooses what the portal does when it logs in, so that every status of an
agent can be reached on purpose:

- ``ok``: logs in, lists its bills (10 per page, newest first), serves them as PDFs;
- ``wrong-password``: refuses every password (the provider changed it: LOGIN_FAILED);
- ``expired-password``: logs in to a "your password has expired" page;
- ``terms``: logs in to a "accept the new terms" page;
- ``two-factor``: logs in to a "type the code we sent you" page;
- ``maintenance``: the portal answers 503 "maintenance" to this account's login;
- ``changed-layout``: logs in, but its bills page has a new layout (a list, not the table).

``maintenance`` on the whole state makes every page answer 503.

The state lives in memory (tests, the bench) or in a JSON file (the demo: the web workers and the
``coffre`` commands are separate processes, so each read takes the file again when it changed and
each change is written whole, under a lock file, then renamed into place). It holds nothing real:
passwords are stored as given, which only a fake may do.
"""

import fcntl
import json
import os
import secrets
import threading
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

MODES = ("ok", "wrong-password", "expired-password", "terms", "two-factor", "maintenance", "changed-layout")


@dataclass
class Bill:
    id: str
    issued_on: str  # ISO date
    amount: str  # Decimal as text
    title: str

    @property
    def date(self) -> date:
        return date.fromisoformat(self.issued_on)


@dataclass
class Account:
    login: str
    password: str
    mode: str = "ok"
    bills: list[Bill] = field(default_factory=list)

    def bill(self, bill_id: str) -> Bill | None:
        return next((item for item in self.bills if item.id == bill_id), None)


def _amount(number: int) -> Decimal:
    """A plausible bill amount, the same for the same number; every seventh one above 1,000."""
    cents = (number * 7919 + 4321) % 25000 + 1500
    if number % 7 == 3:
        cents += 123456
    return Decimal(cents) / 100


def make_bill(number: int, issued_on: date) -> Bill:
    return Bill(
        id=f"F{number:06d}",
        issued_on=issued_on.isoformat(),
        amount=str(_amount(number)),
        title=f"Facture {issued_on.strftime('%m/%Y')}",
    )


def monthly_bills(count: int, first: date = date(2023, 1, 15)) -> list[Bill]:
    """``count`` bills, one a month from ``first`` (numbered from 1)."""
    bills = []
    year, month = first.year, first.month
    for number in range(1, count + 1):
        bills.append(make_bill(number, date(year, month, min(first.day, 28))))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return bills


# The demo's accounts (password "demo"): one per behaviour, listed on the portal's home page.
DEMO_ACCOUNTS = (
    ("demo-ok", "ok", 25),
    ("demo-refused", "wrong-password", 0),
    ("demo-expired", "expired-password", 3),
    ("demo-terms", "terms", 3),
    ("demo-2fa", "two-factor", 3),
    ("demo-down", "maintenance", 3),
    ("demo-layout", "changed-layout", 3),
)
DEMO_PASSWORD = "demo"


class PortalState:
    """The accounts of one fake portal. Thread-safe; file-backed when ``path`` is given."""

    def __init__(self, path: Path | None = None, *, show_demo_accounts: bool = False):
        self.path = Path(path) if path else None
        self.show_demo_accounts = show_demo_accounts
        self._lock = threading.RLock()
        self._loaded_mtime: int | None = None
        self.secret = secrets.token_bytes(32)  # signs sessions and form tokens
        self.maintenance = False
        self.accounts: dict[str, Account] = {}
        if self.path:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._file_lock():
                if self.path.exists():
                    self._load()
                else:
                    self._write()

    @classmethod
    def demo(cls, path: Path | None = None) -> "PortalState":
        """The demo's portal: its accounts are created the first time (the file is kept after)."""
        fresh = path is None or not Path(path).exists()
        state = cls(path, show_demo_accounts=True)
        if fresh:
            with state.changing():
                for login, mode, count in DEMO_ACCOUNTS:
                    state.accounts[login] = Account(login, DEMO_PASSWORD, mode, monthly_bills(count))
        return state

    # --- reading and changing ---

    def account(self, login: str) -> Account | None:
        with self._lock:
            self._refresh()
            return self.accounts.get(login)

    def is_in_maintenance(self) -> bool:
        with self._lock:
            self._refresh()
            return self.maintenance

    @contextmanager
    def changing(self):
        """Change the state inside this block; a file-backed state is re-read first, written after."""
        with self._lock, self._file_lock():
            if self.path:
                self._load()
            yield self
            if self.path:
                self._write()

    def add_account(self, login: str, password: str, mode: str = "ok", bills: int = 0) -> Account:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        with self.changing():
            account = Account(login, password, mode, monthly_bills(bills))
            self.accounts[login] = account
            return account

    def set_mode(self, login: str, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        with self.changing():
            self.accounts[login].mode = mode

    def set_password(self, login: str, password: str) -> None:
        with self.changing():
            self.accounts[login].password = password

    def set_maintenance(self, on: bool) -> None:
        with self.changing():
            self.maintenance = on

    def add_bill(self, login: str, issued_on: date | None = None) -> Bill:
        """A new bill for ``login``, dated ``issued_on`` (default: the day after its newest bill,
        or today for an account without bills)."""
        with self.changing():
            account = self.accounts[login]
            if issued_on is None:
                newest = max((item.date for item in account.bills), default=None)
                issued_on = newest + timedelta(days=1) if newest else date.today()
            number = max((int(item.id[1:]) for item in account.bills), default=0) + 1
            bill = make_bill(number, issued_on)
            account.bills.append(bill)
            return bill

    # --- the JSON file ---

    @contextmanager
    def _file_lock(self):
        if not self.path:
            yield
            return
        with open(self.path.with_suffix(".lock"), "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _refresh(self) -> None:
        if self.path and self._mtime() != self._loaded_mtime:
            with self._file_lock():
                self._load()

    def _mtime(self) -> int | None:
        try:
            return self.path.stat().st_mtime_ns
        except FileNotFoundError:
            return None

    def _load(self) -> None:
        data = json.loads(self.path.read_text(encoding="utf-8"))
        self.secret = bytes.fromhex(data["secret"])
        self.maintenance = bool(data.get("maintenance", False))
        self.show_demo_accounts = bool(data.get("show_demo_accounts", self.show_demo_accounts))
        self.accounts = {
            login: Account(
                login=login,
                password=item["password"],
                mode=item["mode"],
                bills=[Bill(**bill) for bill in item["bills"]],
            )
            for login, item in data["accounts"].items()
        }
        self._loaded_mtime = self._mtime()

    def _write(self) -> None:
        data = {
            "secret": self.secret.hex(),
            "maintenance": self.maintenance,
            "show_demo_accounts": self.show_demo_accounts,
            "accounts": {
                login: {
                    "password": item.password,
                    "mode": item.mode,
                    "bills": [asdict(bill) for bill in item.bills],
                }
                for login, item in self.accounts.items()
            },
        }
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(data, indent=1), encoding="utf-8")
        os.replace(temporary, self.path)
        self._loaded_mtime = self._mtime()
