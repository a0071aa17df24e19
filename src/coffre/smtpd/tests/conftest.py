from coffre.outbox.tests.conftest import ebox  # noqa: F401 - enterprise A's e-Box with a verified address
