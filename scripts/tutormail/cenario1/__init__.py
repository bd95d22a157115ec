"""Cenário 1: the records to publish, RFC 2136 publishing, checks on every authoritative server."""
