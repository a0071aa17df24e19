"""Mail intake: documents sent by e-mail into a space (issue 6).

The pipeline is parse -> authenticate sender -> decide -> store -> tell. This package holds, so
far, the sender authentication step (``coffre.intake.authentication``, see
docs/sender-authentication.md) and the one DNS resolver it uses (``coffre.intake.resolver``).
"""
