"""Exit codes shared by every command (the contract in BRIEF.md)."""

from enum import IntEnum


class Exit(IntEnum):
    OK = 0  # done / verified
    ACTION_NEEDED = 1  # verification failed or expired: a person must act
    BAD_INPUT = 2  # bad input or configuration
    PENDING = 3  # still pending (e.g. --wait timed out inside the SES window)
    SERVICE_ERROR = 4  # AWS, DNS or SMTP service error after retries
    INTERRUPTED = 130
