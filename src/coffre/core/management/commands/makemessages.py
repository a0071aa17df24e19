"""Django's ``makemessages`` with Coffre's options, so that every run writes the same catalogs.

Run from ``src/coffre`` (``make messages`` does): the catalogs are ``src/coffre/locale/<lang>/
LC_MESSAGES/django.po``. Defaults added here: tests are not scanned, locations name the file
without line numbers (a moved line does not rewrite the catalogs), lines are not wrapped, entries
no longer in the code are dropped. Needs GNU gettext (xgettext, msgmerge), like Django's own.
This command only extracts; ``coffre compilemessages`` (msgfmt) makes the ``.mo`` files, which are
committed so that running Coffre needs no gettext. ``core/tests/test_catalogs.py`` runs this command
on a copy of the code to check that the catalogs hold every message, translated.
"""

from django.core.management.commands import makemessages

IGNORED = ["tests", "var", "static"]


class Command(makemessages.Command):
    def handle(self, *args, **options):
        options["ignore_patterns"] = [*options.get("ignore_patterns", []), *IGNORED]
        if not options.get("add_location") and not options.get("no_location"):
            options["add_location"] = "file"
        options["no_wrap"] = True
        options["no_obsolete"] = True
        return super().handle(*args, **options)
