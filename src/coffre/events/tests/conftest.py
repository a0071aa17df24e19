from coffre.mailbox.tests.conftest import portal  # noqa: F401  (the fixture, shared with the mailbox tests)
