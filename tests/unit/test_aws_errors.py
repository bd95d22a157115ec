"""AWS failures after retries become exit code 4 with a message, never a traceback."""

import pytest
from botocore.stub import Stubber
from tutormail.aws import client as aws
from tutormail.aws.ses import Ses
from tutormail.cli.main import main
from tutormail.plan.loader import load_catalog

from tests.conftest import INSTITUTIONS


def test_throttling_after_retries_is_a_service_error():
    platform = load_catalog(INSTITUTIONS, only=[]).platform
    client = aws.client("sesv2", platform.region)
    with Stubber(client) as stub:
        stub.add_client_error("get_email_identity", service_error_code="TooManyRequestsException",
                              service_message="Rate exceeded", http_status_code=429)
        with pytest.raises(aws.ServiceError, match="TooManyRequestsException: Rate exceeded"):
            Ses(platform, sesv2=client).identity("escola-padrao.sistematutor.com.br")


def test_unreachable_aws_exits_4(monkeypatch, capsys, caplog):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "FAKEKEYFORTHETEST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "fake-secret-for-the-test")
    monkeypatch.setattr(aws, "RETRIES", aws.Config(retries={"mode": "adaptive", "max_attempts": 2},
                                                   connect_timeout=1, read_timeout=1))
    code = main(["verify", "escola-padrao", "--institutions", str(INSTITUTIONS)])
    out, err = capsys.readouterr()
    assert code == 4 and out == ""
    assert "Could not connect to the endpoint URL" in caplog.text and "Traceback" not in err


class ThrottlingSes:
    """A local HTTP endpoint that answers SES v2 like a throttled account: 429 a number of times,
    then the identity."""

    def __init__(self, throttled: int):
        import http.server
        import threading

        outer = self
        self.requests = 0

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # GetEmailIdentity is GET /v2/email/identities/{name}
                outer.requests += 1
                if outer.requests <= throttled:
                    body, status = b'{"message": "Maximum sending rate exceeded."}', 429
                    self.send_response(status)
                    self.send_header("x-amzn-ErrorType", "TooManyRequestsException")
                else:
                    body = b'{"IdentityType": "DOMAIN", "VerificationStatus": "SUCCESS", ' \
                           b'"VerifiedForSendingStatus": true, "DkimAttributes": {"Tokens": ["a", "b", "c"]}}'
                    self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()


def test_ses_throttling_is_retried_with_backoff_then_succeeds(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "FAKEKEYFORTHETEST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "fake-secret-for-the-test")
    throttled = ThrottlingSes(throttled=2)
    monkeypatch.setenv("AWS_ENDPOINT_URL", throttled.url)
    try:
        platform = load_catalog(INSTITUTIONS, only=[]).platform
        state = Ses(platform).identity("escola-padrao.sistematutor.com.br")
    finally:
        throttled.close()
    assert state.verified_for_sending and throttled.requests == 3


def test_ses_throttling_that_does_not_end_is_exit_4(monkeypatch, caplog):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "FAKEKEYFORTHETEST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "fake-secret-for-the-test")
    # botocore's max_attempts counts the retries: the first request and two more
    monkeypatch.setattr(aws, "RETRIES", aws.Config(retries={"mode": "adaptive", "max_attempts": 2}))
    throttled = ThrottlingSes(throttled=1000)
    monkeypatch.setenv("AWS_ENDPOINT_URL", throttled.url)
    try:
        code = main(["dns-records", "escola-padrao", "--institutions", str(INSTITUTIONS)])
    finally:
        throttled.close()
    assert code == 4 and throttled.requests == 3
    assert "TooManyRequestsException" in caplog.text


def test_a_batch_goes_on_past_an_institution_that_fails(monkeypatch, capsys):
    import json

    from tutormail.aws.progress_marks import Progress
    from tutormail.aws.ses import IdentityState, Ses
    from tutormail.verification import verify

    def identity(self, name):
        if name.endswith("escola-padrao.sistematutor.com.br"):
            raise aws.ServiceError(f"SES GetEmailIdentity {name}: TooManyRequestsException: Rate exceeded")
        return IdentityState(name, exists=False)

    monkeypatch.setattr(Ses, "identity", identity)
    monkeypatch.setattr(Progress, "read", lambda self: {})
    monkeypatch.setattr(verify, "access_keys", lambda plan, iam=None: None)  # the SMTP key age check: no user
    code = main(["verify", "escola-padrao", "faculdade-delta", "--output", "json",
                 "--institutions", str(INSTITUTIONS)])
    data = json.loads(capsys.readouterr().out)
    assert code == 4 and data["exit_code"] == 4
    first, second = data["institutions"]
    assert first["institution"] == "escola-padrao" and "TooManyRequestsException" in first["error"]
    assert second["institution"] == "faculdade-delta" and second["exit_code"] == 1
    assert {i["state"] for i in second["identities"]} == {"missing"}


def test_a_hung_endpoint_ends_the_command_within_a_minute(tmp_path):
    """An endpoint that takes the connection and never answers: the installed command gives up with exit 4
    inside the bound of one call (time-outs and retries), however many calls it would have made."""
    import os
    import socket
    import subprocess
    import sys
    import threading
    import time
    from pathlib import Path

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    held = []

    def hold():
        while True:
            try:
                held.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=hold, daemon=True).start()
    env = {**os.environ, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{listener.getsockname()[1]}",
           "AWS_ACCESS_KEY_ID": "FAKEKEYFORTHETEST", "AWS_SECRET_ACCESS_KEY": "fake-secret-for-the-test"}
    started = time.monotonic()
    try:
        result = subprocess.run([str(Path(sys.executable).parent / "tutormail"), "status", "--all", "--offline",
                                 "--institutions", str(INSTITUTIONS)], env=env, capture_output=True, text=True,
                                timeout=120, check=False)
    finally:
        listener.close()
        for connection in held:
            connection.close()
    elapsed = time.monotonic() - started
    assert result.returncode == 4, result.stderr
    assert elapsed < 60, elapsed
    assert "Traceback" not in result.stderr and "timeout" in result.stderr.lower()


def test_a_lambda_client_comes_from_the_session_given_with_the_retries_asked():
    made = []

    class Session:
        def client(self, service, region_name=None, config=None):
            made.append((service, region_name, config))

    aws.function_client("sesv2", "us-east-1", Session())
    aws.function_client("s3", session=Session(), config=None)
    assert made == [("sesv2", "us-east-1", aws.RETRIES), ("s3", None, None)]


def test_clients_by_service_follow_renewed_credentials(monkeypatch):
    """The pipeline renews its credentials in the environment mid-run: a Clients kept by a job must
    hand out a client made with the new ones, not the first one it made."""
    monkeypatch.setattr(aws, "_REUSED", {})
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "FAKEKEYFIRSTSESSION")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "fake-secret-first")
    clients = aws.Clients("us-east-1")
    first = clients["cloudformation"]
    assert clients["cloudformation"] is first  # one per service and credentials in a long run
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "FAKEKEYSECONDSESSION")
    renewed = clients["cloudformation"]
    assert renewed is not first and renewed.meta.region_name == "us-east-1"
