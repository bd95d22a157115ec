"""TUTORMAIL_DNS_TIMEOUT: how long one DNS question waits, for a slow link (and for the tests of DNS
that hangs, which need not wait the default 3 s per question)."""

import socket
import time
from dataclasses import replace

import dns.exception
import pytest
from tutormail.dnsclient.resolver import TIMEOUT, ask, resolver, zone_of
from tutormail.runtime import Runtime


def test_the_default_is_three_seconds_a_question_and_twice_that_a_resolution():
    endpoints = Runtime.from_environ({}).dns
    assert endpoints.timeout == TIMEOUT == 3.0
    assert (resolver(endpoints).timeout, resolver(endpoints).lifetime) == (3.0, 6.0)


def test_a_shorter_timeout_bounds_the_resolver_and_the_direct_questions():
    endpoints = Runtime.from_environ({"TUTORMAIL_DNS_TIMEOUT": "0.3s"}).dns
    assert (resolver(endpoints).timeout, resolver(endpoints).lifetime) == (0.3, 0.6)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as hangs:  # takes every question, answers none
        hangs.bind(("127.0.0.1", 0))
        port = hangs.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(dns.exception.Timeout):
            zone_of("escola.exemplo.com.br", replace(endpoints, resolver=("127.0.0.1", port)))
        answer = ask("127.0.0.1", "escola.exemplo.com.br", "TXT", port=port, timeout=endpoints.timeout)
        elapsed = time.monotonic() - started
    assert answer.outcome == "timeout" and answer.detail == "no answer within 0.3 s"
    assert elapsed < 3.0, elapsed  # 0.6 s and 0.3 s, with room for a loaded machine
