"""Fixtures of the oauth tests; other apps can reuse them the same way (see coffre.oauth.testing)."""

from coffre.oauth.testing import *  # noqa: F403 (fixtures are found by name)
