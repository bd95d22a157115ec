"""RFC 2136 record comparison and the update message, in-process: the server's answers are faked
(`ask`), the update is read back from the message dnspython builds, and the server's refusals are
mapped to exit codes. tests/dns/ does the same against BIND, end to end."""

from __future__ import annotations

import dns.name
import dns.rcode
import dns.rdatatype
import dns.tsig
import pytest
from botocore.exceptions import ClientError
from tutormail.aws.client import ServiceError
from tutormail.cenario1.records import DomainRecords
from tutormail.cenario1.rfc2136_changes import KEEP_DMARC, decide, load_key, plan_changes
from tutormail.dnsclient.rdata import txt_text
from tutormail.dnsclient.resolver import Answer, DnsEndpoints
from tutormail.dnsclient.rfc2136 import (
    PublishError,
    deliver,
    parse_key,
    removal,
    send_update,
    server_address,
    update_message,
)
from tutormail.exitcodes import Exit
from tutormail.plan.build import RECORD_TTL, dmarc_value

from tests.unit.fakes import FakeSecrets, pending, record_change

REDE = "rede.escolateste.edu.br"
KEY = parse_key("chave.teste:hmac-sha256:c2VjcmV0", "test")


def rede(plan):
    identity = plan.identity(REDE)
    return DomainRecords(identity, pending(REDE), plan.records(identity, ("t1", "t2", "t3")))


def names_by_purpose(item):
    return {r.purpose: r.name for r in item.records}


@pytest.mark.parametrize(("text", "reason"), [
    ("only-a-name", "not three fields"),
    ("k:hmac-sha256:c2Vj:cmV0", "the secret is not base64"),  # a colon is no base64: the secret is all after two
    ("{not json", "not JSON with name and secret, nor three fields"),
    ('{"name": "", "secret": "c2VjcmV0"}', "name, algorithm and secret must be non-empty strings"),
    ("a..b:hmac-sha256:c2VjcmV0", "'a..b' is not a DNS name"),
    ("k:hmac-nothing:c2VjcmV0", "unknown algorithm 'hmac-nothing' (one of hmac-md5.sig-alg.reg.int, hmac-sha1, "),
    ("k:hmac-sha256:c2Vj cmV0", "the secret is not base64"),  # not skipped over: the whole secret must be base64
])
def test_a_bad_tsig_key_is_refused_with_its_reason(text, reason):
    with pytest.raises(PublishError) as caught:
        parse_key(text, "the file x.key")
    assert str(caught.value).startswith(f"the file x.key does not hold a usable TSIG key: {reason}")
    assert "(expected JSON {name, algorithm, secret} or name:algorithm:secret)" in str(caught.value)


def test_a_txt_string_that_is_not_utf8_is_still_read():
    assert txt_text('"v=DMARC1; p=\\255" "none"') == "v=DMARC1; p=\ufffdnone"


# --- decide: one (name, type) we own -----------------------------------------------------------------

CNAME_ELSEWHERE = ("other.example.com.br.",)


@pytest.mark.parametrize(("purpose", "way_out"), [("dmarc", "`dmarc: keep`"), ("mail-from-mx", "mail_from"),
                                                   ("mail-from-spf", "mail_from")])
def test_a_cname_at_a_name_we_write_is_a_conflict(purpose, way_out):
    action, reason = decide(purpose, (), ("x",), CNAME_ELSEWHERE)
    assert action == "conflict" and "other.example.com.br." in reason and way_out in reason


def test_a_dkim_cname_of_ours_with_an_old_token_is_changed():
    assert decide("dkim", ("old.dkim.amazonses.com.",), ("t1.dkim.amazonses.com.",), CNAME_ELSEWHERE) == ("change", "")
    assert decide("dkim", (), ("t1.dkim.amazonses.com.",), ()) == ("add", "")
    assert decide("dkim", ("t1.dkim.amazonses.com.",), ("t1.dkim.amazonses.com.",), ()) == ("nothing", "")


def test_an_existing_dmarc_policy_is_never_replaced_and_other_txt_do_not_count():
    action, reason = decide("dmarc", ('"V=DMARC1; p=reject"',), ('"v=DMARC1; p=none;"',), ())
    assert action == "conflict" and '"V=DMARC1; p=reject"' in reason  # found without regard to case
    assert reason == f'a DMARC policy is already published: "V=DMARC1; p=reject"; {KEEP_DMARC}'  # not ours
    action, reason = decide("dmarc", (f'"{dmarc_value("quarantine")}"',), (f'"{dmarc_value("none")}"',), ())
    assert action == "conflict" and "by hand" in reason  # ours, from an earlier dmarc_policy
    assert decide("dmarc", ('"google-site-verification=x"',), ('"v=DMARC1; p=none;"',), ()) == ("add", "")
    assert decide("dmarc", ('"v=DMARC1; p=none;"',), ('"v=DMARC1; p=none;"',), ()) == ("nothing", "")


def test_spf_at_the_mail_from_name_is_added_beside_other_txt_never_beside_another_spf():
    ours = ('"v=spf1 include:amazonses.com ~all"',)
    assert decide("mail-from-spf", ('"x=1"',), ours, ()) == ("add", "")
    assert decide("mail-from-spf", ('"x=1"', *ours), ours, ()) == ("nothing", "")
    action, reason = decide("mail-from-spf", ('"v=spf1 -all"',), ours, ())
    assert action == "conflict" and reason.endswith('"v=spf1 -all"')


def test_an_mx_already_at_the_mail_from_name_is_a_conflict():
    action, reason = decide("mail-from-mx", ("10 mx.other.", "20 mx2.other."),
                            ("10 feedback-smtp.us-east-1.amazonses.com.",), ())
    assert action == "conflict" and "MX 10 mx.other., 20 mx2.other.:" in reason and "mail_from" in reason
    assert decide("mail-from-mx", (), ("10 feedback-smtp.us-east-1.amazonses.com.",), ()) == ("add", "")


# --- plan_changes: asks every (name, type) we own, and its CNAME -------------------------------------

NOTHING = Answer("nxdomain")


class FakeAsk:
    def __init__(self, monkeypatch, answers=None, default=NOTHING):
        self.answers, self.default, self.asked = answers or {}, default, []
        monkeypatch.setattr("tutormail.dnsclient.rfc2136.ask", self)

    def __call__(self, server, name, rdtype, port=53):
        self.asked.append((server, name, rdtype, port))
        return self.answers.get((name, rdtype), self.default)


def test_plan_changes_compares_without_case_for_host_names(plans, monkeypatch):
    item = rede(plans["escola"])
    names = names_by_purpose(item)
    dkim = sorted(r.name for r in item.records if r.purpose == "dkim")
    ask = FakeAsk(monkeypatch, {(dkim[0], "CNAME"): Answer("ok", ("T1.Dkim.AmazonSES.com.",)),
                                (dkim[1], "CNAME"): Answer("ok", ("old.dkim.amazonses.com.",)),
                                (names["dmarc"], "TXT"): Answer("ok", ('"v=DMARC1; p=quarantine"',))})
    changes = {(c.name, c.type): c for c in plan_changes(item, "127.0.0.1", 5300)}
    assert changes[(dkim[0], "CNAME")].action == "keep"
    assert changes[(dkim[1], "CNAME")] == record_change(dkim[1], "CNAME", "change", ("t2.dkim.amazonses.com.",),
                                                        ("old.dkim.amazonses.com.",), of=REDE)
    assert changes[(dkim[2], "CNAME")].action == "create"
    assert changes[(names["dmarc"], "TXT")].action == "person"
    assert '"v=DMARC1; p=quarantine"' in changes[(names["dmarc"], "TXT")].reason
    assert changes[(names["mail-from-mx"], "MX")].action == "create"
    assert {server for server, *_ in ask.asked} == {"127.0.0.1"} and {a[3] for a in ask.asked} == {5300}
    cname_questions = {name for _, name, rtype, _ in ask.asked if rtype == "CNAME"}
    assert cname_questions == {r.name for r in item.records}  # a CNAME is looked for at every name we write
    assert len(ask.asked) == len(changes) * 2 - 3  # a DKIM CNAME is not asked twice


@pytest.mark.parametrize(("outcome", "words"), [("timeout", "did not answer"), ("unreachable", "did not answer"),
                                                ("refused", "answered refused"), ("servfail", "answered servfail"),
                                                ("error", "answered error")])
def test_a_server_that_fails_to_answer_stops_the_plan(plans, monkeypatch, outcome, words):
    FakeAsk(monkeypatch, default=Answer(outcome, detail="the detail"))
    with pytest.raises(PublishError) as caught:
        plan_changes(rede(plans["escola"]), "127.0.0.1", 5300)
    assert caught.value.exit_code == Exit.SERVICE_ERROR
    assert f"127.0.0.1:5300 {words}" in str(caught.value) and "the detail" in str(caught.value)


def test_a_cname_found_at_a_name_we_write_makes_the_plan_a_conflict(plans, monkeypatch):
    item = rede(plans["escola"])
    dmarc = names_by_purpose(item)["dmarc"]
    FakeAsk(monkeypatch, {(dmarc, "CNAME"): Answer("ok", ("dmarc.provider.example.",)),
                          (dmarc, "TXT"): Answer("ok", ('"v=DMARC1; p=none"',))})
    changes = {(c.name, c.type): c for c in plan_changes(item, "127.0.0.1", 53)}
    conflict = changes[(dmarc, "TXT")]
    assert conflict.action == "person" and "dmarc.provider.example." in conflict.reason
    assert conflict.found == ('"v=DMARC1; p=none"',)


def test_nodata_is_nothing_found(plans, monkeypatch):
    FakeAsk(monkeypatch, default=Answer("nodata"))
    assert {c.action for c in plan_changes(rede(plans["escola"]), "127.0.0.1", 53)} == {"create"}


# --- the update message ------------------------------------------------------------------------------

def sections(update):
    """(prerequisites, updates) as (name, type, class, TTL, values) tuples; the class is the one on
    the wire (dnspython keeps NONE and ANY apart, as `deleting`)."""
    def rows(section):
        return sorted((str(rrset.name), dns.rdatatype.to_text(rrset.rdtype), int(rrset.deleting or rrset.rdclass),
                       rrset.ttl, tuple(sorted(r.to_text() for r in rrset))) for rrset in section)
    return rows(update.prerequisite), rows(update.update)


def test_the_update_adds_our_values_only_under_the_right_prerequisites():
    add = record_change("t1._domainkey.rede.escolateste.edu.br", "CNAME", "add", ("t1.dkim.amazonses.com.",), ())
    change = record_change("t2._domainkey.rede.escolateste.edu.br", "CNAME", "change", ("t2.dkim.amazonses.com.",),
                    ("old.dkim.amazonses.com.",))
    beside = record_change("mail.rede.escolateste.edu.br", "TXT", "add", ('"v=spf1 include:amazonses.com ~all"',),
                    ('"x=1"',))
    nothing = record_change("t3._domainkey.rede.escolateste.edu.br", "CNAME", "nothing", ("t3.dkim.amazonses.com.",),
                     ("t3.dkim.amazonses.com.",))
    update = update_message(REDE, [add, change, beside, nothing], parse_key("chave.teste:hmac-sha512:c2VjcmV0", "t"))
    prerequisites, updates = sections(update)
    assert str(update.zone[0].name) == f"{REDE}."
    # absent (class NONE, RFC 2136 2.4.3) for a name we add to; present (class ANY, 2.4.1) for one we replace
    assert prerequisites == [("t1._domainkey.rede.escolateste.edu.br.", "CNAME", 254, 0, ()),
                             ("t2._domainkey.rede.escolateste.edu.br.", "CNAME", 255, 0, ())]
    assert updates == [("mail.rede.escolateste.edu.br.", "TXT", 1, RECORD_TTL,
                        ('"v=spf1 include:amazonses.com ~all"',)),
                       ("t1._domainkey.rede.escolateste.edu.br.", "CNAME", 1, RECORD_TTL, ("t1.dkim.amazonses.com.",)),
                       ("t2._domainkey.rede.escolateste.edu.br.", "CNAME", 1, RECORD_TTL, ("t2.dkim.amazonses.com.",)),
                       ("t2._domainkey.rede.escolateste.edu.br.", "CNAME", 255, 0, ())]  # the old one deleted
    assert update.keyname == dns.name.from_text("chave.teste") and str(update.keyalgorithm) == "hmac-sha512."


def test_a_value_already_there_is_not_added_again():
    both = record_change("mail.rede.escolateste.edu.br", "TXT", "change", ('"a"', '"b"'), ('"a"',))
    _, updates = sections(update_message(REDE, [both], KEY))
    assert [u for u in updates if u[2] == 1] == [("mail.rede.escolateste.edu.br.", "TXT", 1, RECORD_TTL, ('"b"',))]


def test_a_removal_deletes_only_while_the_set_holds_our_values():
    """Offboarding's update: the whole set while it is exactly ours (RFC 2136 2.4.2, value dependent),
    else only our records beside the others (2.5.4), the set first required to exist (2.4.1)."""
    ours = record_change("t1._domainkey.rede.escolateste.edu.br", "CNAME", "nothing", ("t1.dkim.amazonses.com.",),
                  ("t1.dkim.amazonses.com.",))
    prerequisites, updates = sections(removal(REDE, ours, KEY))
    assert prerequisites == [("t1._domainkey.rede.escolateste.edu.br.", "CNAME", 1, 0, ("t1.dkim.amazonses.com.",))]
    assert updates == [("t1._domainkey.rede.escolateste.edu.br.", "CNAME", 255, 0, ())]
    beside = record_change("mail.rede.escolateste.edu.br", "TXT", "nothing", ('"ours"',), ('"ours"', '"theirs"'))
    prerequisites, updates = sections(removal(REDE, beside, KEY))
    assert prerequisites == [("mail.rede.escolateste.edu.br.", "TXT", 255, 0, ())]
    assert updates == [("mail.rede.escolateste.edu.br.", "TXT", 254, 0, ('"ours"',))]


# --- the server's answer to the update ---------------------------------------------------------------

class Response:
    def __init__(self, rcode):
        self._rcode = rcode

    def rcode(self):
        return self._rcode


@pytest.fixture
def tcp(monkeypatch):
    sent = []

    def install(answer):
        def fake(update, address, port, timeout):
            sent.append((str(update.zone[0].name), address, port, timeout))
            if isinstance(answer, Exception):
                raise answer
            return Response(answer)

        monkeypatch.setattr("tutormail.dnsclient.rfc2136.dns.query.tcp", fake)
        return sent

    return install


ONE = [record_change("t1._domainkey.rede.escolateste.edu.br", "CNAME", "add", ("t1.dkim.amazonses.com.",), ())]


def test_an_accepted_update_goes_to_the_server_over_tcp(tcp):
    sent = tcp(dns.rcode.NOERROR)
    assert send_update(REDE, ONE, KEY, "127.0.0.1", 5300) is None
    assert sent == [(f"{REDE}.", "127.0.0.1", 5300, 10)]
    update = update_message(REDE, ONE, KEY)
    assert deliver(update, REDE, KEY, "127.0.0.1", 53, accept=(dns.rcode.NOERROR, dns.rcode.NXRRSET)) == 0
    tcp(dns.rcode.NXRRSET)
    assert deliver(update, REDE, KEY, "127.0.0.1", 53, accept=(dns.rcode.NOERROR, dns.rcode.NXRRSET)) == \
        dns.rcode.NXRRSET


@pytest.mark.parametrize(("rcode", "code", "words"), [
    (dns.rcode.YXRRSET, Exit.SERVICE_ERROR, "changed while we looked"),
    (dns.rcode.NXRRSET, Exit.SERVICE_ERROR, "changed while we looked"),
    (dns.rcode.REFUSED, Exit.BAD_INPUT, "REFUSED by 127.0.0.1: the key 'chave.teste' may not update"),
    (dns.rcode.NOTAUTH, Exit.BAD_INPUT, "NOTAUTH from 127.0.0.1"),
    (dns.rcode.SERVFAIL, Exit.SERVICE_ERROR, "update failed at 127.0.0.1: SERVFAIL"),
])
def test_a_refused_update_says_whose_move_it_is(tcp, rcode, code, words):
    tcp(rcode)
    with pytest.raises(PublishError) as caught:
        send_update(REDE, ONE, KEY, "127.0.0.1", 5300)
    assert caught.value.exit_code == code and words in str(caught.value)
    if rcode in (dns.rcode.YXRRSET, dns.rcode.NXRRSET):
        assert f"{REDE}" in str(caught.value) and dns.rcode.to_text(rcode) in str(caught.value)


@pytest.mark.parametrize(("failure", "code", "words"), [
    (dns.tsig.PeerBadKey(), Exit.BAD_INPUT, "BADKEY: 127.0.0.1 does not know the key 'chave.teste'"),
    (dns.tsig.PeerBadSignature(), Exit.BAD_INPUT, "BADSIG: the key 'chave.teste' has the wrong secret for 127.0.0.1"),
    (dns.tsig.PeerBadTime(), Exit.BAD_INPUT, "BADTIME"),
    (dns.tsig.PeerBadTruncation(), Exit.BAD_INPUT, "TSIG error from 127.0.0.1"),
    (dns.exception.Timeout(), Exit.SERVICE_ERROR, "127.0.0.1:5300 did not take the update"),
    (ConnectionRefusedError("refused"), Exit.SERVICE_ERROR, "127.0.0.1:5300 did not take the update: refused"),
    (dns.exception.FormError(), Exit.SERVICE_ERROR, "127.0.0.1:5300 answered the update with a malformed message: "
                                                    "FormError"),
])
def test_a_failed_exchange_says_whose_move_it_is(tcp, failure, code, words):
    tcp(failure)
    with pytest.raises(PublishError) as caught:
        send_update(REDE, ONE, KEY, "127.0.0.1", 5300)
    assert caught.value.exit_code == code and words in str(caught.value)


# --- where the server is, and its key ----------------------------------------------------------------

def test_the_server_address_and_port(plans, monkeypatch):
    dns_entry = plans["escola"].identity(REDE).dns
    assert server_address(dns_entry, DnsEndpoints(direct_port=5301)) == ("127.0.0.1", 5301)  # port 53: the direct one
    other = type(dns_entry)(**{**vars(dns_entry), "port": 5353})
    assert server_address(other, DnsEndpoints(direct_port=5301)) == ("127.0.0.1", 5353)

    class Address:
        def to_text(self):
            return "192.0.2.53"

    class Resolver:
        def resolve(self, host, rtype):
            assert (host, rtype) == ("ns1.escolateste.edu.br", "A")
            return [Address()]

    named = type(dns_entry)(**{**vars(dns_entry), "server": "ns1.escolateste.edu.br"})
    endpoints = DnsEndpoints(("127.0.0.1", 5300))
    monkeypatch.setattr("tutormail.dnsclient.rfc2136.resolver", lambda given: given is endpoints and Resolver())
    assert server_address(named, endpoints) == ("192.0.2.53", 53)

    class Failing:
        def resolve(self, host, rtype):
            raise dns.resolver.NXDOMAIN()

    monkeypatch.setattr("tutormail.dnsclient.rfc2136.resolver", lambda given: Failing())
    with pytest.raises(PublishError) as caught:
        server_address(named, endpoints)
    assert caught.value.exit_code == Exit.SERVICE_ERROR
    assert "cannot resolve the DNS server ns1.escolateste.edu.br: NXDOMAIN" in str(caught.value)


def test_the_key_comes_from_the_file_given_or_the_secret_named(plans, tmp_path, monkeypatch):
    dns_entry = plans["escola"].identity(REDE).dns
    key_file = tmp_path / "k.key"
    key_file.write_text("chave.arquivo:hmac-sha512:c2VjcmV0\n")
    assert load_key(dns_entry, "us-east-1", key_file).name == "chave.arquivo"
    client = FakeSecrets('{"name": "chave.segredo", "secret": "c2VjcmV0"}')
    assert load_key(dns_entry, "us-east-1", None, client).name == "chave.segredo"
    assert client.asked == [dns_entry.tsig_key]
    opened = []
    monkeypatch.setattr("tutormail.aws.client.client", lambda service, region: opened.append((service, region))
                        or client)
    load_key(dns_entry, "sa-east-1", None)
    assert opened == [("secretsmanager", "sa-east-1")]


def test_an_unreadable_key_is_bad_input_naming_where_it_was_read(plans, tmp_path):
    dns_entry = plans["escola"].identity(REDE).dns
    bad = tmp_path / "bad.key"
    bad.write_text("only-a-name")
    with pytest.raises(PublishError) as caught:
        load_key(dns_entry, "us-east-1", bad)
    assert str(caught.value).startswith(f"{bad} does not hold a usable TSIG key")
    with pytest.raises(PublishError) as caught:
        load_key(dns_entry, "us-east-1", None, FakeSecrets("only-a-name"))
    assert str(caught.value).startswith(f"the secret {dns_entry.tsig_key} does not hold a usable TSIG key")

    class Refusing:
        def get_secret_value(self, SecretId):
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "GetSecretValue")

    with pytest.raises(ServiceError) as caught:
        load_key(dns_entry, "us-east-1", None, Refusing())
    assert str(caught.value).startswith(f"Secrets Manager GetSecretValue {dns_entry.tsig_key}: AccessDenied")
    with pytest.raises(PublishError) as caught:
        load_key(dns_entry, "us-east-1", tmp_path / "none.key")
    assert caught.value.exit_code == Exit.BAD_INPUT
    assert f"cannot read the TSIG key file {tmp_path / 'none.key'}: No such file or directory" == str(caught.value)
    binary = tmp_path / "binary.key"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(PublishError) as caught:
        load_key(dns_entry, "us-east-1", binary)
    assert caught.value.exit_code == Exit.BAD_INPUT and str(binary) in str(caught.value)
    assert "binary content" in str(caught.value)

    class BinarySecret:
        def get_secret_value(self, SecretId):
            return {"SecretBinary": b"x"}

    with pytest.raises(PublishError) as caught:
        load_key(dns_entry, "us-east-1", None, BinarySecret())
    assert f"the secret {dns_entry.tsig_key}" in str(caught.value) and "binary secret" in str(caught.value)
