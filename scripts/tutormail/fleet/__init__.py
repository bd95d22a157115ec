"""The status of many institutions in batched reads."""
