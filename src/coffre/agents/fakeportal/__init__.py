"""The fake provider portal "Énergie Demo": a tiny web app that ships with the demo and the tests.

It is what the declarative portal agent (``coffre.agents.providers.portal``, with
``portals/demo-energy.yaml``) logs in to: ``state`` (accounts, bills, how each account behaves),
``app`` (the pages, a plain WSGI application), ``server`` (served from a thread for tests and the
bench), ``views`` (mounted in Coffre under /demo-portal/ when COFFRE_DEMO_PORTAL is on).
See docs/agents-portal.md. It never holds real data.
"""
