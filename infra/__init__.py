"""The CDK side: constructs (senders, SMTP user, events) composed into stacks."""
