"""The provider of the agents phase: the fake portal "Énergie Demo" with the bench's accounts,
as a WSGI application for gunicorn (``bench/agents.py`` starts it in processes of its own).

``gunicorn --preload ... agents_portal:application`` (from the bench directory) with:

- ``BENCH_PORTAL_ACCOUNTS``: accounts ``client00000@example.test`` ... (password ``pw-<n>``),
  every one in mode "ok" (``login`` / ``password`` below give them);
- ``BENCH_PORTAL_BILLS``: bills per account, one a month (``state.monthly_bills``);
- ``BENCH_PORTAL_PDF_BYTES``: each bill's PDF (``app.bill_pdf``: its own text, so unique per
  account and bill) is padded after its end to about this size, as a scanned bill would be (0
  keeps the portal's own small PDFs).

The state is in memory, built before gunicorn forks (``--preload``): every worker process then
has the same accounts and the same secret signing the sessions, so any worker answers any request.
Nothing is written during the run. The portal's pages and behaviour are ``coffre.agents.fakeportal``'s,
unchanged; only the PDF is padded.
"""

import hashlib
import os

from coffre.agents.fakeportal.app import FakePortal, PortalResponse, bill_pdf
from coffre.agents.fakeportal.state import Account, PortalState, monthly_bills


def login(number: int) -> str:
    return f"client{number:05d}@example.test"


def password(number: int) -> str:
    return f"pw-{number}"


def _padding(size: int) -> bytes:
    """``size`` bytes that do not compress (a scan), made of lines of a PDF comment."""
    out, counter = bytearray(), 0
    while len(out) < size:
        out += b"%" + hashlib.sha256(counter.to_bytes(8, "big")).hexdigest().encode() * 2 + b"\n"
        counter += 1
    return bytes(out[:size])


class BenchPortal(FakePortal):
    """The fake portal, with its bills padded to ``pdf_bytes``."""

    def __init__(self, state: PortalState, pdf_bytes: int):
        super().__init__(state)
        self.pdf_bytes = pdf_bytes
        self._padding = _padding(pdf_bytes)  # before the fork: shared by the workers

    def _bill_pdf(self, account: Account, bill_id: str) -> PortalResponse:
        response = super()._bill_pdf(account, bill_id)
        if response.status == 200 and self.pdf_bytes:
            missing = self.pdf_bytes - len(response.body)
            if missing > 0:
                response.body = response.body + self._padding[:missing]
        return response


def build(accounts: int, bills: int, pdf_bytes: int) -> BenchPortal:
    state = PortalState()
    shared_bills = monthly_bills(bills)  # read-only: the same list object serves every account
    with state.changing():
        for number in range(accounts):
            state.accounts[login(number)] = Account(login(number), password(number), "ok", list(shared_bills))
    return BenchPortal(state, pdf_bytes)


def sample_pdf(pdf_bytes: int) -> int:
    """The size of a bill as served (for the table)."""
    base = bill_pdf(Account(login(0), password(0)), monthly_bills(1)[0])
    return max(len(base), pdf_bytes)


if os.environ.get("BENCH_PORTAL_ACCOUNTS"):
    application = build(
        int(os.environ["BENCH_PORTAL_ACCOUNTS"]),
        int(os.environ.get("BENCH_PORTAL_BILLS", "3")),
        int(os.environ.get("BENCH_PORTAL_PDF_BYTES", "0")),
    )
