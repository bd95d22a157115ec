"""Dnspython adapters: resolver, authoritative queries, rdata comparison."""
