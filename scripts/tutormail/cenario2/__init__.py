"""Cenário 2: verification links and the DMARC pre-flight."""
