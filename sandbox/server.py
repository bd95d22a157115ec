"""The sandbox's AWS emulator process: moto server + extensions + the SES SMTP stand-in.

    python -m sandbox.server AWS_PORT SMTP_PORT INBOUND_SMTP_PORT   (started by `python -m sandbox up`)
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from urllib.parse import parse_qs

from . import limits
from .config import SandboxConfig
from .iam import cfn_iam, enforce, web_identity
from .moto_ext import install

install()  # before moto parses any template
enforce.install()  # IAM decides every request from the first one
cfn_iam.install()
limits.install()  # and the services refuse what exceeds AWS's limits

from moto.iam.models import iam_backends  # noqa: E402
from moto.moto_server.werkzeug_app import (  # noqa: E402
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.route53.models import route53_backends  # noqa: E402
from moto.secretsmanager.models import secretsmanager_backends  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from .moto_ext import cfn_time, ses_account  # noqa: E402
from .moto_ext.ses_lifecycle import CLOCK, find_identity  # noqa: E402
from .receiving import start_inbound  # noqa: E402
from .smtp import start_smtp  # noqa: E402


def seed(config: SandboxConfig) -> None:
    """What exists before any deploy: the Route 53 zones the files name (with those ids) and the
    TSIG secrets of RFC 2136 domains."""
    seed_file = Path(config.state_dir) / "seed.json"
    if not seed_file.exists():
        return
    data = json.loads(seed_file.read_text())
    route53 = route53_backends[config.account][config.partition]
    for zone_id, name in data.get("hosted_zones", {}).items():
        if zone_id in route53.zones:
            continue
        zone = route53.create_hosted_zone(name, private_zone=False)
        route53.zones.pop(zone.resource_id)
        zone.resource_id = zone_id
        route53.zones[zone_id] = zone
    secrets = secretsmanager_backends[config.account][config.region]
    for name, value in data.get("secrets", {}).items():
        if secrets.secrets.get(name) is None:
            secrets.create_secret(name=name, secret_string=value, secret_binary=None, description="sandbox seed",
                                  tags=None, kms_key_id=None, client_request_token=None, replica_regions=[],
                                  force_overwrite=False)


ADMIN_USER = "sandbox-admin"
ADMIN_POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def seed_admin(config: SandboxConfig) -> None:
    """The one administrator of the sandbox account, for `cdk bootstrap` and for creating the
    principals the product declares; its key is written 0600 for the launcher, never printed."""
    iam = iam_backends[config.account][config.partition]
    if ADMIN_USER in iam.users:
        return
    iam.create_user(region_name=config.region, user_name=ADMIN_USER, path="/")
    iam.put_user_policy(ADMIN_USER, "administrator", json.dumps(ADMIN_POLICY))
    key = iam.create_access_key(ADMIN_USER)
    key.secret_access_key = f"sandbox-fake-{key.secret_access_key}"  # moto makes it; "fake" says what it is
    path = Path(config.state_dir) / "admin.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump({"access_key_id": key.access_key_id, "secret_access_key": key.secret_access_key}, handle)


def _json(start_response, status: str, body: dict) -> list[bytes]:
    start_response(status, [("Content-Type", "application/json")])
    return [json.dumps(body).encode()]


class SandboxApp:
    """moto's WSGI app, plus /_sandbox/: links to open, and state the tests may drive."""

    def __init__(self, moto_app):
        self.moto_app = moto_app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if not path.startswith("/_sandbox/"):
            return self.moto_app(environ, start_response)
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        if path == "/_sandbox/health":
            return _json(start_response, "200 OK", {"ok": True})
        if path == "/_sandbox/iam-decisions":
            return _json(start_response, "200 OK", {"decisions": list(enforce.DECISIONS)})
        if path == "/_sandbox/reputation" and environ["REQUEST_METHOD"] == "POST":  # issue 14
            from .reputation import apply

            size = int(environ.get("CONTENT_LENGTH") or 0)
            try:
                return _json(start_response, "200 OK", apply(json.loads(environ["wsgi.input"].read(size)),
                                                              SandboxConfig.from_env()))
            except RuntimeError as exc:
                return _json(start_response, "409 Conflict", {"error": str(exc)})
        if path == "/_sandbox/verify":
            identity = find_identity(query.get("identity", ""))
            outcome = identity.open_link(query.get("token", "")) if identity else "invalid"
            status = {"verified": "200 OK", "expired": "410 Gone"}.get(outcome, "404 Not Found")
            start_response(status, [("Content-Type", "text/plain; charset=utf-8")])
            text = {"verified": "Congratulations! You have successfully verified the address.",
                    "expired": "This verification link has expired. Request a new one.",
                    "invalid": "This verification link is not valid."}[outcome]
            return [text.encode()]
        if path == "/_sandbox/identity":
            if environ["REQUEST_METHOD"] == "POST":
                size = int(environ.get("CONTENT_LENGTH") or 0)
                body = json.loads(environ["wsgi.input"].read(size) or b"{}")
                identity = find_identity(body.get("identity", ""))
                if identity is None:
                    return _json(start_response, "404 Not Found", {"error": "no such identity"})
                identity.forced_status = body.get("status")
                return _json(start_response, "200 OK", {"identity": identity.email_identity,
                                                        "status": identity.forced_status})
            identity = find_identity(query.get("identity", ""))
            if identity is None:
                return _json(start_response, "404 Not Found", {"error": "no such identity"})
            identity.refresh()
            return _json(start_response, "200 OK", {
                "identity": identity.email_identity, "status": identity.verification_status,
                "tokens": identity.tokens, "links_sent": identity.links_sent})
        if path == "/_sandbox/account":
            return _account(environ, start_response)
        if path.startswith("/_sandbox/oidc/"):
            return _oidc(path, environ, query, start_response)
        if path == "/_sandbox/cloudformation" and environ["REQUEST_METHOD"] == "POST":
            return _json(start_response, "200 OK", cfn_time.configure(_body(environ)))
        return _json(start_response, "404 Not Found", {"error": f"unknown {path}"})


def _body(environ) -> dict:
    size = int(environ.get("CONTENT_LENGTH") or 0)
    return json.loads(environ["wsgi.input"].read(size) or b"{}")


def _oidc(path: str, environ, query: dict, start_response) -> list[bytes]:
    """GitHub's side of OIDC (sandbox/iam/web_identity.py): jobs a test registers, and their tokens."""
    if path == "/_sandbox/oidc/jobs" and environ["REQUEST_METHOD"] == "POST":
        return _json(start_response, "200 OK", {"request_token": web_identity.register_job(_body(environ)["claims"])})
    if path == "/_sandbox/oidc/token":
        bearer = environ.get("HTTP_AUTHORIZATION", "").partition(" ")[2]
        token = web_identity.issue(bearer, query.get("audience", ""), CLOCK.now())
        if token is None:
            return _json(start_response, "401 Unauthorized", {"message": "Bad credentials"})
        return _json(start_response, "200 OK", {"value": token})
    return _json(start_response, "404 Not Found", {"error": f"unknown {path}"})


def _account(environ, start_response) -> list[bytes]:
    """The SES account's state: read it, or change it as AWS would (production access granted,
    sending paused, an enforcement decision)."""
    config = SandboxConfig.from_env()
    state = ses_account.account(config.account, config.region)
    if environ["REQUEST_METHOD"] == "POST":
        size = int(environ.get("CONTENT_LENGTH") or 0)
        body = json.loads(environ["wsgi.input"].read(size) or b"{}")
        try:
            state.update(production_access=body.get("production_access"),
                         sending_enabled=body.get("sending_enabled"),
                         enforcement_status=body.get("enforcement_status"),
                         reset_quota=bool(body.get("reset_quota")))
        except ValueError as exc:
            return _json(start_response, "400 Bad Request", {"error": str(exc)})
    return _json(start_response, "200 OK", state.as_sandbox_view(CLOCK.now()))


def main(argv: list[str]) -> int:
    aws_port, smtp_port, inbound_port = int(argv[0]), int(argv[1]), int(argv[2])
    config = SandboxConfig.from_env()
    seed_admin(config)
    seed(config)
    state = Path(config.state_dir)
    smtp = start_smtp(config, smtp_port, state / "tls" / "smtp.pem", state / "tls" / "smtp.key")
    inbound = start_inbound(config, inbound_port, state / "tls" / "smtp.pem", state / "tls" / "smtp.key")
    server = make_server("127.0.0.1", aws_port, SandboxApp(DomainDispatcherApplication(create_backend_app)),
                         threaded=True, request_handler=MotoRequestHandler)
    try:
        server.serve_forever()
    finally:
        smtp.stop()
        inbound.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
