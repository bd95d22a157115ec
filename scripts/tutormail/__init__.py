"""tutor-mail: a verified, least-privilege Amazon SES sender for every Tutor institution."""

__version__ = "0.1.0"
