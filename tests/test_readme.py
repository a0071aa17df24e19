"""The README's curl walkthrough, run as written against the production server."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from coffre.mailbox.models import Message
from coffre.testing.live import child_environment

README = Path(__file__).resolve().parent.parent / "README.md"


def walkthrough() -> str:
    text = README.read_text()
    match = re.search(r"<!-- walkthrough:[^>]*-->\n```sh\n(.*?)```", text, re.S)
    assert match, "the README lost its walkthrough block"
    return match.group(1)


def test_the_readme_opens_with_the_two_commands():
    first_block = re.search(r"```sh\n(.*?)```", README.read_text(), re.S).group(1)
    assert first_block.split("\n")[:2] == ["make run", "make test"]


def test_the_curl_walkthrough_works_as_written(gunicorn_server, tmp_path):
    call_command("demo", stdout=open(os.devnull, "w"))
    before = Message.objects.count()
    # Run from a copy of the checkout's layout: the script uses $PWD/.venv/bin for `coffre`.
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "bin").symlink_to(Path(sys.executable).parent)
    env = child_environment(BASE=gunicorn_server)
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", walkthrough()],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert '"messageId"' in result.stdout
    assert "downloaded the very same bytes" in result.stdout
    assert Message.objects.count() == before + 1
    assert Message.objects.latest("id").read_at is not None  # the download read it


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    monkeypatch.delenv("http_proxy", raising=False)
    monkeypatch.delenv("HTTP_PROXY", raising=False)
