"""Receiving on the platform domain (issue 25): replies to the platform addresses, and the check messages."""
