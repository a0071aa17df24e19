"""Test-suite plumbing shared by every test of Coffre (see the repository's conftest.py).

Imported only by pytest: ``environment`` is a plugin loaded with ``-p`` before Django's settings,
``network`` blocks outbound connections, ``live`` starts the real HTTP server on the test database,
``dns`` a DNS server on 127.0.0.1 for the records of a test, ``dkim`` makes DKIM keys and signatures,
``imap`` a throwaway Dovecot IMAP server.
Nothing here is used by the running application.
"""
