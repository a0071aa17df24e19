"""Mail intake: documents sent by e-mail into a space (issue 6).

The pipeline is parse -> authenticate sender -> decide -> store -> tell. This package holds, so
far, the sender authentication step (``coffre.intake.authentication``, see
docs/sender-authentication.md) and the one DNS resolver it uses (``coffre.intake.resolver``); the
parse step, what becomes a document (``coffre.intake.mime``, with ``mimeparts``, ``filetypes``,
``containers``, ``filenames`` and ``bodytext``; docs/intake-documents.md); and IMAP polling of
existing mailboxes, an app of its own (``coffre.intake.imap``).
"""
