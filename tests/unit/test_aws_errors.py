"""AWS failures after retries become exit code 4 with a message, never a traceback."""

from botocore.stub import Stubber
from tutormail import aws
from tutormail.cli import main
from tutormail.model import load_catalog
from tutormail.ses import Ses

from tests.conftest import INSTITUTIONS


def test_throttling_after_retries_is_a_service_error():
    platform = load_catalog(INSTITUTIONS, only=[]).platform
    client = aws.client("sesv2", platform.region)
    with Stubber(client) as stub:
        stub.add_client_error("get_email_identity", service_error_code="TooManyRequestsException",
                              service_message="Rate exceeded", http_status_code=429)
        try:
            Ses(platform, sesv2=client).identity("escola-padrao.sistematutor.com.br")
        except aws.ServiceError as exc:
            assert "TooManyRequestsException: Rate exceeded" in str(exc)
        else:
            raise AssertionError("no ServiceError")


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
