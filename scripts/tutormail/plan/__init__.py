"""What must exist for an institution: identities, records, senders, names."""
