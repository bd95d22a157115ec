"""Boto3 adapters: retries and errors, SES state, progress marks."""
