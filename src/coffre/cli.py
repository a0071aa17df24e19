"""The ``coffre`` command: every subcommand is a Django management command.

``coffre run`` starts everything the embedded default needs (HTTP server, task worker, scheduler);
``coffre client create ...``, ``coffre audit verify``, ``coffre migrate`` ... wrap management commands.
"""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coffre.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["coffre", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
