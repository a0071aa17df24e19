"""The environment of a test run, set before Django's settings are read.

Loaded as a pytest plugin (``-p coffre.testing.environment`` in pyproject.toml's addopts) because
pytest-django imports the settings while it loads the initial conftests, which is too late for a
conftest.py to change what settings.py reads. Each run gets:

- its own ``COFFRE_VAR_DIR`` (a temporary directory, removed at the end), so that tests never
  read or write ./var (no real key, database or blob is ever touched);
- a generated master key (``COFFRE_MASTER_KEY``), so that no key file is created or read;
- with SQLite, a test database that is a *file*, ``<COFFRE_VAR_DIR>/coffre.sqlite3``: the very
  path settings.py names for that var dir, so that a server started in a subprocess with the
  same ``COFFRE_VAR_DIR`` opens the test database (see ``coffre.testing.live``). With
  PostgreSQL (``DATABASE_URL``) pytest-django creates ``test_<name>`` as usual.
"""

import atexit
import base64
import os
import shutil
import tempfile
from pathlib import Path

import pytest

_OWN_VAR_DIR: Path | None = None


def prepare_environment() -> Path:
    """Point the settings at a fresh temporary var dir and a generated master key."""
    global _OWN_VAR_DIR
    if _OWN_VAR_DIR is None:
        _OWN_VAR_DIR = Path(tempfile.mkdtemp(prefix="coffre-test-"))
        (_OWN_VAR_DIR / "static").mkdir()  # STATIC_ROOT, which WhiteNoise wants to exist
        # Also when pytest stops before pytest_unconfigure (e.g. a conftest that does not import).
        atexit.register(shutil.rmtree, _OWN_VAR_DIR, True)
    os.environ["COFFRE_VAR_DIR"] = str(_OWN_VAR_DIR)
    os.environ["COFFRE_MASTER_KEY"] = base64.b64encode(os.urandom(32)).decode("ascii")
    os.environ.pop("COFFRE_MASTER_KEY_FILE", None)
    os.environ.pop("COFFRE_MASTER_KEY_PATH", None)
    os.environ["COFFRE_TEST_SQLITE_NAME"] = str(_OWN_VAR_DIR / "coffre.sqlite3")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coffre.settings")
    return _OWN_VAR_DIR


@pytest.hookimpl(wrapper=True)
def pytest_load_initial_conftests(early_config, parser, args):
    # A wrapper runs before every plain implementation, pytest-django's (which loads settings) included.
    prepare_environment()
    return (yield)


def pytest_unconfigure(config):
    global _OWN_VAR_DIR
    if _OWN_VAR_DIR is not None:
        shutil.rmtree(_OWN_VAR_DIR, ignore_errors=True)
        _OWN_VAR_DIR = None
