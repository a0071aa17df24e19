"""Errors of the webservice-client domain.

Messages are written for the person who reads them (an operator at the CLI, an integrator
reading an API error) and never contain a token, an assertion or a key.
"""


class InvalidToken(Exception):
    """The bearer token of a request cannot be used (the API answers 401).

    ``reason`` says why in words that can be shown to the caller, as a clause without a final
    period ("the access token has expired"), so that it fits into a sentence.
    """

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


class ClientError(Exception):
    """An operator's request about webservice clients cannot be done (bad input, unknown id)."""


class CertificateError(ClientError):
    """The certificate is not usable to authenticate a client (bad PEM, not RSA, too short...)."""


class UnknownEnterprise(ClientError):
    pass


class UnknownClient(ClientError):
    pass


class RevokedClientCertificate(ClientError):
    """The certificate belongs to a client that was revoked: it cannot be registered again."""


class ScopeNotAllowed(Exception):
    """A token request asks for scopes the client does not have, or for unknown ones."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)
