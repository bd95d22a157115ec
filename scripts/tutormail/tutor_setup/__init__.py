"""Phases 2 and 3: Tutor's Contas de E-mail settings, SMTP password, send-test, handoff."""
