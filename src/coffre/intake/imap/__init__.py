"""IMAP polling of an existing mailbox, for those who cannot point their MX at Coffre (issue 6).

A Django app of its own (label ``intake_imap``) inside the intake package: ``models.ImapSource``
(a mailbox to poll for one intake address, its password sealed at rest), ``services`` (add,
remove, the poll's bookkeeping, each with its audit record), ``poller.poll`` (fetch new messages
by UID and hand each to the intake pipeline), ``tasks`` (the periodic poll with backoff) and the
``coffre imap-source`` command. docs/intake-documents.md, "IMAP polling", is the operator's guide.
"""
