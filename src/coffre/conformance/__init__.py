"""Contract checks of the e-Box REST API (``python -m coffre.conformance --spec-dir DIR``).

Dev tooling that ships with the project: it starts a real Coffre server on a throw-away data
directory, validates live responses against the official Swagger 2.0 definitions (with the
documented deviations of NOTES.md, each printed with its reason), runs a scripted scenario of
every operation and of the NOTES.md rules, then a bounded property-based fuzz (schemathesis) of
every operation. It is a client of the server: it never imports the server's Django code, and the
project's own tests never read the official files it checks against.

- ``spec``: load the Swagger, apply the deviations, build JSON Schema validators;
- ``server``: the throw-away instance (migrate, demo data, clients, gunicorn), torn down at exit;
- ``calls``: requests validated against the contract, and the statuses each operation answered;
- ``live``: the scripted scenario; ``access``: 401/403 on every operation and the coverage table;
- ``fuzz``: schemathesis; ``report``: PASS/FAIL lines and counts.

See docs/conformance.md.
"""
