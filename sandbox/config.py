"""What the sandbox's processes share, passed through the environment of the emulator process."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class SandboxConfig:
    state_dir: str
    base_url: str = ""  # http://localhost:PORT of the AWS emulator
    dns_server: str = ""  # host:port of the sandbox BIND (authoritative for every zone)
    dns_update_key: str = ""  # name:algorithm:secret of the key that may update every zone
    link_validity_hours: int = 24
    dkim_window_hours: int = 72
    institutions_dir: str = ""
    # The account and region of the platform file the sandbox was started with: every emulated
    # service, ARN and the SMTP endpoint's region check use them.
    account: str = ""
    region: str = ""
    inbound_smtp: str = ""  # host:port of SES receiving's stand-in (sandbox/receiving.py)

    @property
    def partition(self) -> str:
        return "aws-us-gov" if self.region.startswith("us-gov-") else "aws"

    @property
    def outbox(self) -> Path:
        return Path(self.state_dir) / "outbox"

    @property
    def mailbox(self) -> Path:
        return Path(self.state_dir) / "mailbox"

    @property
    def clock_file(self) -> Path:
        return Path(self.state_dir) / "clock-offset"

    def to_env(self) -> dict[str, str]:
        return {"TUTORMAIL_SANDBOX_CONFIG": json.dumps(asdict(self))}

    @classmethod
    def from_env(cls) -> SandboxConfig:
        raw = os.environ.get("TUTORMAIL_SANDBOX_CONFIG")
        if not raw:
            raise RuntimeError("TUTORMAIL_SANDBOX_CONFIG is not set: start the emulator through the sandbox")
        return cls(**json.loads(raw))
