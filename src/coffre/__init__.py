"""Coffre: a self-hosted, secure document mailbox for businesses."""
