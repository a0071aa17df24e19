"""coffre/gunicorn_conf.py: the production server's settings come from the environment."""

import importlib
import logging
import os
import sys
from unittest import mock

import pytest
from django.core.exceptions import ImproperlyConfigured
from gunicorn.config import Config

import coffre.gunicorn_conf


def load(**env):
    """The config module as gunicorn reads it, with exactly these COFFRE_* variables."""
    with mock.patch.dict(os.environ):
        for name in ("COFFRE_BIND", "COFFRE_WEB_WORKERS", "COFFRE_WEB_THREADS", "COFFRE_WEB_TIMEOUT"):
            os.environ.pop(name, None)
        os.environ.update(env)
        return importlib.reload(coffre.gunicorn_conf)


@pytest.fixture(autouse=True)
def restore_module():
    yield
    importlib.reload(coffre.gunicorn_conf)


def test_defaults():
    conf = load()
    assert conf.bind == ["127.0.0.1:8000"]
    assert conf.worker_class == "gthread"
    assert 3 <= conf.workers <= 12
    assert conf.threads == 4
    assert conf.limit_request_line == 8190
    assert conf.control_socket_disable is True


def test_values_from_the_environment():
    conf = load(
        COFFRE_BIND="0.0.0.0:8080,unix:/run/coffre.sock",
        COFFRE_WEB_WORKERS="3",
        COFFRE_WEB_THREADS="16",
        COFFRE_WEB_TIMEOUT="120",
    )
    assert conf.bind == ["0.0.0.0:8080", "unix:/run/coffre.sock"]
    assert (conf.workers, conf.threads, conf.timeout) == (3, 16, 120)


@pytest.mark.parametrize("name, value", [("COFFRE_WEB_WORKERS", "many"), ("COFFRE_WEB_THREADS", "0")])
def test_bad_values_are_refused_with_their_name(name, value):
    with pytest.raises(ImproperlyConfigured, match=name):
        load(**{name: value})


def test_every_setting_is_known_to_gunicorn_and_the_access_log_goes_to_stderr():
    conf = load()
    config = Config()
    for name in (
        "bind",
        "worker_class",
        "workers",
        "threads",
        "timeout",
        "graceful_timeout",
        "keepalive",
        "limit_request_line",
        "limit_request_fields",
        "limit_request_field_size",
        "proc_name",
        "forwarded_allow_ips",
        "worker_tmp_dir",
        "control_socket_disable",
        "accesslog",
        "errorlog",
        "loglevel",
        "logger_class",
    ):
        config.set(name, getattr(conf, name))
    logger = config.logger_class(config)
    handlers = [
        handler for handler in logger.access_log.handlers if isinstance(handler, logging.StreamHandler)
    ]
    assert handlers and all(handler.stream is sys.stderr for handler in handlers)
