"""coffre.core.keys: the key file made on first run, by whichever process needs it first."""

import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from coffre.core import keys
from coffre.core.crypto import MasterKey


def test_the_first_run_makes_a_private_key_file_and_later_runs_read_it(tmp_path):
    path = tmp_path / "var" / "master.key"
    made = keys._load_or_create_key_file(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert keys._load_or_create_key_file(path).secret == made.secret
    assert [p.name for p in path.parent.iterdir()] == ["master.key"]


def test_a_process_that_loses_the_race_reads_the_winners_key(tmp_path, monkeypatch):
    path = tmp_path / "master.key"
    winner = MasterKey.generate()
    generate = MasterKey.generate

    def meanwhile_another_process_wins():
        path.write_text(winner.to_b64() + "\n")
        return generate()

    monkeypatch.setattr(MasterKey, "generate", staticmethod(meanwhile_another_process_wins))
    assert keys._load_or_create_key_file(path).secret == winner.secret
    assert [p.name for p in tmp_path.iterdir()] == ["master.key"]  # no temporary file left


def test_the_key_file_appears_only_complete(tmp_path, monkeypatch):
    """Another process never reads an empty or half-written key (a 500 on a first run, before)."""
    path = tmp_path / "master.key"
    visible_while_written = []
    fsync = os.fsync

    def watching_fsync(fd):
        visible_while_written.append(path.exists())
        fsync(fd)

    monkeypatch.setattr(keys.os, "fsync", watching_fsync)
    keys._load_or_create_key_file(path)
    assert visible_while_written[0] is False


@pytest.mark.parametrize("attempt", range(5))
def test_many_at_once_all_get_the_same_key(tmp_path, attempt):
    path = tmp_path / "master.key"
    with ThreadPoolExecutor(8) as pool:
        found = list(pool.map(lambda _: keys._load_or_create_key_file(path).secret, range(16)))
    assert len(set(found)) == 1
    assert MasterKey.from_b64(path.read_text()).secret == found[0]
