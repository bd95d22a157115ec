"""Starts and stops the sandbox: BIND (a primary and a secondary), the AWS emulator and its SMTP
stand-in, all on loopback, with their state in one directory."""

from __future__ import annotations

import email
import email.policy
import json
import math
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

import trustme
from tutormail.clock import is_real_offset, read_offset
from tutormail.plan.build import build_plan
from tutormail.plan.loader import load_catalog
from tutormail.vocabulary import IdentityKind, Provider

from . import amazonses
from .bind import Named, TsigKey, Zone, free_port
from .config import SandboxConfig

PRIMARY, SECONDARY = "127.0.0.1", "127.0.0.2"
UPDATE_KEY = "tutormail-sandbox-update"
# DMARC policies the sandbox publishes for Cenário 2 domains, so the pre-flight has something to find.
SAMPLE_DMARC = {"colegioxy.com.br": "v=DMARC1; p=reject; rua=mailto:dmarc@colegioxy.com.br"}


def _key_name(secret_name: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", secret_name.lower()).strip("-")


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _zones_and_seed(institutions_dir: Path, hosted_zones: Mapping[str, Zone] = MappingProxyType({})
                    ) -> tuple[list[Zone], list[TsigKey], dict]:
    catalog = load_catalog(institutions_dir)
    platform = catalog.platform
    update = TsigKey.generate(UPDATE_KEY)
    keys = [update]
    servers = (("ns1", PRIMARY), ("ns2", SECONDARY))
    zones = {platform.platform_domain: Zone(platform.platform_domain, update_keys=(UPDATE_KEY,), name_servers=servers),
             # SES's own domain: SPF of its sending IP and MAIL FROM, the DKIM keys (sandbox/amazonses.py)
             amazonses.DOMAIN: amazonses.zone(platform.region, UPDATE_KEY, servers)}
    seed: dict = {"hosted_zones": {platform.hosted_zone_id: platform.platform_domain}, "secrets": {}}
    for zone_id, zone in hosted_zones.items():  # Route 53 zones no file names yet, served like the others
        zones[zone.name] = Zone(zone.name, records=zone.records, update_keys=(UPDATE_KEY,), name_servers=servers)
        seed["hosted_zones"][zone_id] = zone.name
    for institution in catalog.institutions.values():
        plan = build_plan(institution, platform)
        for identity in plan.identities:
            if identity.kind == IdentityKind.EMAIL:
                domain = identity.name.split("@", 1)[1]
                if domain not in zones:
                    records = [("_dmarc", 300, "TXT", f'"{SAMPLE_DMARC[domain]}"')] if domain in SAMPLE_DMARC else []
                    zones[domain] = Zone(domain, records=records, name_servers=servers)
                continue
            dns = identity.dns
            if dns is None:
                continue
            if dns.provider == Provider.ROUTE53:
                zones.setdefault(dns.zone_name, Zone(dns.zone_name, update_keys=(UPDATE_KEY,), name_servers=servers))
                seed["hosted_zones"][dns.hosted_zone_id] = dns.zone_name
            elif dns.provider == Provider.RFC2136:
                key = TsigKey.generate(_key_name(dns.tsig_key))
                keys.append(key)
                zones[dns.domain] = Zone(dns.domain, update_keys=(key.name,), name_servers=servers)
                seed["secrets"][dns.tsig_key] = json.dumps(
                    {"name": key.name, "algorithm": key.algorithm, "secret": key.secret})
            else:
                zones.setdefault(dns.domain, Zone(dns.domain, name_servers=servers))
    return list(zones.values()), keys, seed


def _wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 (loopback only)
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the AWS emulator did not answer {url} in time")


def up(state_dir: Path, institutions_dir: Path, hosted_zones: Mapping[str, Zone] = MappingProxyType({})
       ) -> dict[str, str]:
    """`hosted_zones`: more Route 53 zones (id -> zone with its records in the sandbox DNS) than the files
    name, as an account holds zones before an institution's file names one (tests)."""
    state_dir = Path(state_dir).resolve()
    if (state_dir / "pids.json").exists():
        down(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA()
    cert = ca.issue_cert("localhost", "127.0.0.1")
    (state_dir / "tls").mkdir(exist_ok=True)
    ca.cert_pem.write_to_path(str(state_dir / "tls" / "ca.pem"))
    cert.cert_chain_pems[0].write_to_path(str(state_dir / "tls" / "smtp.pem"))
    _write_private(state_dir / "tls" / "smtp.key", cert.private_key_pem.bytes())

    zones, keys, seed = _zones_and_seed(institutions_dir, hosted_zones)
    _write_private(state_dir / "seed.json", json.dumps(seed).encode())
    dns_port = free_port((PRIMARY, SECONDARY))
    primary = Named(state_dir / "bind-primary", PRIMARY, dns_port, zones, keys, notify=(SECONDARY,)).start()
    secondary = Named(state_dir / "bind-secondary", SECONDARY, dns_port, zones, keys,
                      primary=(PRIMARY, dns_port)).start()

    aws_port, smtp_port, inbound_port = free_port(), free_port(), free_port()
    platform = load_catalog(institutions_dir, only=[]).platform
    config = SandboxConfig(state_dir=str(state_dir), base_url=f"http://localhost:{aws_port}",
                           dns_server=f"{PRIMARY}:{dns_port}",
                           dns_update_key=next(k for k in keys if k.name == UPDATE_KEY).as_text(),
                           link_validity_hours=platform.link_validity_hours,
                           dkim_window_hours=platform.dkim_window_hours,
                           institutions_dir=str(Path(institutions_dir).resolve()),
                           account=platform.account, region=platform.region,
                           inbound_smtp=f"localhost:{inbound_port}")
    config.clock_file.write_text("0")
    # moto puts every request in the account of MOTO_ACCOUNT_ID: the platform file's, not moto's default.
    env = {**os.environ, **config.to_env(), "TUTORMAIL_CLOCK_FILE": str(config.clock_file),
           "MOTO_ACCOUNT_ID": platform.account,
           # AWS managed policies exist, as in AWS: the CDK deploy role holds AWSCloudFormationReadOnlyAccess.
           "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
           "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[1]), os.environ.get("PYTHONPATH", "")])}
    log = open(state_dir / "aws.log", "wb")
    emulator = subprocess.Popen([sys.executable, "-m", "sandbox.server", str(aws_port), str(smtp_port),
                                 str(inbound_port)], env=env,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    (state_dir / "pids.json").write_text(json.dumps(
        {"emulator": emulator.pid, "named-primary": primary.process.pid, "named-secondary": secondary.process.pid}))
    _wait_http(f"{config.base_url}/_sandbox/health")
    # IAM is enforced: the only key that exists at first is the sandbox administrator's (made by the
    # emulator, "sandbox-fake-" in its secret), for `cdk bootstrap` and `python -m sandbox principal`.
    admin = json.loads((state_dir / "admin.json").read_text())
    exports = {
        "AWS_ENDPOINT_URL": config.base_url,
        "AWS_ACCESS_KEY_ID": admin["access_key_id"],
        "AWS_SECRET_ACCESS_KEY": admin["secret_access_key"],
        "AWS_DEFAULT_REGION": platform.region,
        "AWS_REGION": platform.region,
        "TUTORMAIL_RESOLVER": f"{PRIMARY}:{dns_port}",
        "TUTORMAIL_DNS_PORT": str(dns_port),
        "TUTORMAIL_SMTP_ENDPOINT": f"localhost:{smtp_port}",
        "TUTORMAIL_SMTP_CA_BUNDLE": str(state_dir / "tls" / "ca.pem"),
        # SES receiving's endpoint, inbound-smtp.<region>.amazonaws.com (sandbox/receiving.py)
        "TUTORMAIL_INBOUND_SMTP_ENDPOINT": f"localhost:{inbound_port}",
        "TUTORMAIL_CLOCK_FILE": str(config.clock_file),
        "TUTORMAIL_SANDBOX_URL": config.base_url,
        "TUTORMAIL_SANDBOX_STATE": str(state_dir),
        # moto's change sets do not survive a second deploy of a stack: the pipeline deploys directly
        "TUTORMAIL_CDK_METHOD": "direct",
    }
    (state_dir / "env.json").write_text(json.dumps(exports, indent=2, sort_keys=True))
    return exports


def bootstrap_target(institutions_dir: Path) -> str:
    """`aws://ACCOUNT/REGION` of a directory's platform file, what `cdk bootstrap` is given."""
    platform = load_catalog(institutions_dir, only=[]).platform
    return f"aws://{platform.account}/{platform.region}"


def principal(exports: dict[str, str], name: str, policies: list[str]) -> dict[str, str]:
    """The sandbox's stand-in for a person or pipeline: IAM user `sandbox-<name>` holding exactly the
    named managed policies (declared by TutorMail-Platform), with a fresh key; `exports` with its key.

    The admin makes it, as an account administrator would once. GitHub's OIDC roles cannot be
    assumed in the sandbox (docs/ARCHITECTURE.md), so a role's policies are held by a user instead.
    """
    import boto3

    admin = boto3.session.Session(aws_access_key_id=exports["AWS_ACCESS_KEY_ID"],
                                  aws_secret_access_key=exports["AWS_SECRET_ACCESS_KEY"],
                                  region_name=exports["AWS_REGION"])
    iam = admin.client("iam", endpoint_url=exports["AWS_ENDPOINT_URL"])
    account = admin.client("sts", endpoint_url=exports["AWS_ENDPOINT_URL"]).get_caller_identity()["Account"]
    user = f"sandbox-{name}"
    try:
        iam.create_user(UserName=user)
    except iam.exceptions.EntityAlreadyExistsException:
        for key in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]:
            iam.delete_access_key(UserName=user, AccessKeyId=key["AccessKeyId"])
    for policy in policies:
        iam.attach_user_policy(UserName=user, PolicyArn=f"arn:aws:iam::{account}:policy/{policy}")
    key = iam.create_access_key(UserName=user)["AccessKey"]
    return {**exports, "AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}


def save_principal(state_dir: Path, name: str, policies: list[str]) -> Path:
    """`principal` for a person at a shell: its variables in a 0600 file of the state directory."""
    exports = principal(read_env(state_dir), name, policies)
    path = Path(state_dir) / f"principal-{name}.json"
    _write_private(path, json.dumps(exports, indent=2, sort_keys=True).encode())
    return path


def read_env(state_dir: Path) -> dict[str, str]:
    path = Path(state_dir) / "env.json"
    if not path.exists():
        raise RuntimeError(f"no sandbox is up in {state_dir}: run `python -m sandbox up` first")
    return json.loads(path.read_text())


def _ended(pid: int) -> bool:
    """A process this one started stays a zombie, which signal 0 still finds, until it is reaped: the
    tests start the sandbox themselves, and down() waited its two seconds on each of the three."""
    try:
        return os.waitpid(pid, os.WNOHANG)[0] == pid
    except ChildProcessError:  # not our child (`python -m sandbox down` from another shell)
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def down(state_dir: Path) -> None:
    pids_file = Path(state_dir) / "pids.json"
    if not pids_file.exists():
        return
    for pid in json.loads(pids_file.read_text()).values():
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
        for _ in range(20):
            if _ended(pid):
                break
            time.sleep(0.1)
        else:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    pids_file.unlink()
    (Path(state_dir) / "env.json").unlink(missing_ok=True)


def advance_clock(state_dir: Path, hours: float) -> float:
    """Moves the running sandbox's clock forward. The new offset is checked as every command will
    read it (tutormail.clock.read_offset), so a refused step leaves the clock as it was."""
    read_env(state_dir)  # a sandbox is up
    if not (math.isfinite(hours) and hours > 0):
        raise RuntimeError(f"advance-clock: {hours!r} is not a positive number of hours (time only moves forward)")
    clock = Path(state_dir) / "clock-offset"
    try:
        offset = read_offset(clock).total_seconds() + hours * 3600
    except ValueError as exc:
        raise RuntimeError(f"advance-clock: {exc}") from None
    if not is_real_offset(offset):
        raise RuntimeError(f"advance-clock: {hours:g} h would put the clock more than a century ahead")
    clock.write_text(str(offset))
    return offset


def latest_link(state_dir: Path, address: str) -> str:
    """The verification link last "mailed" to an address (what a person would click)."""
    outbox = Path(state_dir) / "outbox"
    messages = sorted(p for p in outbox.glob("*.eml") if p.name.endswith(f"-{address}.eml")) if outbox.exists() else []
    if not messages:
        raise RuntimeError(f"no verification mail for {address} in {outbox}")
    body = email.message_from_bytes(messages[-1].read_bytes(), policy=email.policy.default).get_content()
    match = re.search(r"(http://\S+/_sandbox/verify\?\S+)", body)
    if not match:
        raise RuntimeError(f"no link in {messages[-1]}")
    return match.group(1)


def open_link(state_dir: Path, address: str) -> tuple[int, str]:
    url = latest_link(state_dir, address)
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback only)
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _sandbox_request(state_dir: Path, path: str, body: dict | None = None) -> dict:
    url = read_env(state_dir)["TUTORMAIL_SANDBOX_URL"] + path
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback only)
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raise RuntimeError(json.loads(exc.read() or b"{}").get("error", str(exc))) from exc


def github_job(state_dir: Path, claims: dict) -> dict[str, str]:
    """The variables GitHub gives a job with `id-token: write`, for a job with these claims (its
    `sub` ...): the pipeline fetches its OIDC tokens from the sandbox's issuer with them."""
    token = _sandbox_request(state_dir, "/_sandbox/oidc/jobs", {"claims": claims})["request_token"]
    return {"ACTIONS_ID_TOKEN_REQUEST_URL": read_env(state_dir)["TUTORMAIL_SANDBOX_URL"] + "/_sandbox/oidc/token",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": token}


def cloudformation(state_dir: Path, **settings) -> dict:
    """How long each stack operation takes on the sandbox clock, and stacks whose next update fails
    (sandbox/moto_ext/cfn_time.py)."""
    return _sandbox_request(state_dir, "/_sandbox/cloudformation", settings)


def account(state_dir: Path, **changes) -> dict:
    """The SES account's state (production access, sending, enforcement, quota), after any changes."""
    changes = {key: value for key, value in changes.items() if value is not None}
    return _sandbox_request(state_dir, "/_sandbox/account", changes if changes else None)


def verify_recipient(state_dir: Path, address: str) -> tuple[int, str]:
    """What an operator does for a recipient while the account is in the SES sandbox: create the
    address identity (SES mails a link) and open the link."""
    import boto3

    env = read_env(state_dir)
    client = boto3.client("sesv2", endpoint_url=env["AWS_ENDPOINT_URL"], region_name=env["AWS_REGION"],
                          aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                          aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"])
    try:
        client.get_email_identity(EmailIdentity=address)
    except client.exceptions.NotFoundException:
        client.create_email_identity(EmailIdentity=address)
    return open_link(state_dir, address)
