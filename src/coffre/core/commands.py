"""Helpers shared by the ``coffre`` management commands: translated-text arguments, JSON output,
and errors shown as one clear line with a non-zero exit code instead of a traceback."""

import json

from django.core.management.base import CommandError


def translated_arg(values: list[str] | None, option: str) -> dict:
    """``--name fr=Facture --name nl=Factuur`` -> ``{"fr": "Facture", "nl": "Factuur"}``."""
    result = {}
    for value in values or []:
        lang, sep, text = value.partition("=")
        if not sep or lang not in {"fr", "nl", "de", "en"}:
            raise CommandError(f"{option} takes LANG=TEXT with LANG one of fr, nl, de, en (got {value!r})")
        result[lang] = text
    return result


def emit(command, data: dict | list, as_json: bool, text: str) -> None:
    command.stdout.write(json.dumps(data, ensure_ascii=False, default=str) if as_json else text)
