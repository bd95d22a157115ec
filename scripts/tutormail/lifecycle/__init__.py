"""Day 2: what changed since the last deploy, and institutions that leave."""
