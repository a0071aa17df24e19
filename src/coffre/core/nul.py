"""NUL characters (U+0000) in untrusted input: found before they reach the database.

PostgreSQL refuses NUL in text and in ``jsonb`` (``DataError``), SQLite stores it silently: left
unchecked, one ``%00`` in a URL or one ``"\\u0000"`` in a JSON body is a 500 on PostgreSQL and
a different answer on SQLite. No field of the e-Box contract can hold one, so every entry point
refuses it with a 400 (``coffre.core.middleware`` for URLs and forms, the API's JSON parser and
the publication parser for JSON bodies).
"""

NUL = "\x00"


def nul_in(value, where: str) -> str | None:
    """Where the first NUL is in a decoded JSON value (keys included), e.g. ``body.items[0].messageId``."""
    if isinstance(value, str):
        return where if NUL in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and NUL in key:
                return f"{where} (a property name)"
            found = nul_in(item, f"{where}.{key}")
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = nul_in(item, f"{where}[{index}]")
            if found:
                return found
    return None
