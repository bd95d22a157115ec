"""A real BIND `named` on loopback, configured and started by the sandbox and the test fixtures."""

from __future__ import annotations

import base64
import os
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import dns.exception
import dns.message
import dns.query
import dns.rcode

TSIG_ALGORITHM = "hmac-sha256"


def named_binary() -> str:
    found = shutil.which("named") or next((p for p in ("/usr/sbin/named", "/usr/local/sbin/named")
                                           if Path(p).exists()), None)
    if not found:
        raise RuntimeError("BIND's named is not installed: run `make bind` (Debian's bind9) or install BIND 9")
    return found


def ensure_loopback_address(address: str) -> None:
    """BIND listens only on addresses configured on an interface; 127.0.0.1 always is, a second
    loopback address (for a second authoritative server) may need adding (root only)."""
    if address == "127.0.0.1":
        return
    shown = subprocess.run(["ip", "-o", "addr", "show", "dev", "lo"], capture_output=True, text=True, check=False)
    if f" {address}/" in shown.stdout:
        return
    added = subprocess.run(["ip", "addr", "add", f"{address}/32", "dev", "lo"], capture_output=True, text=True,
                           check=False)
    if added.returncode != 0:
        raise RuntimeError(f"cannot add {address} to the loopback interface (needs root): {added.stderr.strip()}")


def free_port(addresses: tuple[str, ...] = ("127.0.0.1",)) -> int:
    """A port free for UDP and TCP on every address (BIND listens on both)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind((addresses[0], 0))
            port = probe.getsockname()[1]
        try:
            for address in addresses:
                for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                    with socket.socket(socket.AF_INET, kind) as sock:
                        sock.bind((address, port))
            return port
        except OSError:
            continue
    raise RuntimeError("no free port on loopback")


@dataclass(frozen=True)
class TsigKey:
    name: str
    secret: str  # base64
    algorithm: str = TSIG_ALGORITHM

    @classmethod
    def generate(cls, name: str) -> TsigKey:
        return cls(name, base64.b64encode(secrets.token_bytes(32)).decode())

    def conf(self) -> str:
        return f'key "{self.name}" {{ algorithm {self.algorithm}; secret "{self.secret}"; }};\n'

    def as_text(self) -> str:
        """name:algorithm:secret, the form of tutormail's --tsig-key-file and the sandbox config."""
        return f"{self.name}:{self.algorithm}:{self.secret}"


@dataclass
class Zone:
    name: str
    records: list[tuple[str, int, str, str]] = field(default_factory=list)  # (relative name, ttl, type, value)
    update_keys: tuple[str, ...] = ()
    name_servers: tuple[tuple[str, str], ...] = (("ns1", "127.0.0.1"),)

    def text(self) -> str:
        origin = self.name.rstrip(".") + "."
        lines = [f"$ORIGIN {origin}", "$TTL 300",
                 f"@ IN SOA {self.name_servers[0][0]} hostmaster 1 3600 600 86400 60"]
        for label, address in self.name_servers:
            lines += [f"@ IN NS {label}", f"{label} IN A {address}"]
        lines += [f"{name} {ttl} IN {rtype} {value}" for name, ttl, rtype, value in self.records]
        return "\n".join(lines) + "\n"


class Named:
    """One named process. `primary` serves zones from files; a secondary transfers them from it."""

    def __init__(self, workdir: Path, address: str, port: int, zones: list[Zone], keys: list[TsigKey],
                 primary: tuple[str, int] | None = None, notify: tuple[str, ...] = ()):
        self.workdir, self.address, self.port = Path(workdir), address, port
        self.zones, self.keys, self.primary, self.notify = zones, keys, primary, notify
        self.process: subprocess.Popen | None = None

    def _config(self) -> str:
        work = self.workdir
        lines = [
            "options {",
            f'  directory "{work}";',
            f'  pid-file "{work}/named.pid";',
            f'  session-keyfile "{work}/session.key";',
            f"  listen-on port {self.port} {{ {self.address}; }};",
            "  listen-on-v6 { none; };",
            "  recursion no;",
            "  dnssec-validation no;",
            "  allow-transfer { any; };",
            "  notify explicit;" if self.notify else "  notify no;",
            f"  notify-source {self.address};",
            "  notify-delay 0;",
            "  allow-notify { 127.0.0.0/8; };",
            "};",
            'controls { };',
        ]
        lines += [key.conf() for key in self.keys]
        for zone in self.zones:
            file = f"{zone.name}.zone"
            # A journal or a transferred copy left by an earlier `sandbox up` would replay old records
            # over the fresh zone (or, on a secondary, hold a higher serial than the fresh primary).
            (work / f"{file}.jnl").unlink(missing_ok=True)
            if self.primary:
                (work / file).unlink(missing_ok=True)
                lines.append(f'zone "{zone.name}" {{ type secondary; file "{file}"; '
                             f"primaries {{ {self.primary[0]} port {self.primary[1]}; }}; }};")
                continue
            (work / file).write_text(zone.text())
            update = " ".join(f'key "{k}";' for k in zone.update_keys) or "none;"
            also = " ".join(f"{a} port {self.port};" for a in self.notify)
            lines.append(f'zone "{zone.name}" {{ type primary; file "{file}"; allow-update {{ {update} }};'
                         + (f" also-notify {{ {also} }};" if also else "") + " };")
        return "\n".join(lines) + "\n"

    def write_config(self) -> Path:
        """named.conf holds the TSIG secrets: readable by its owner only (named runs as this user)."""
        conf = self.workdir / "named.conf"
        fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        os.fchmod(fd, 0o600)  # an existing file keeps its mode through O_CREAT
        with os.fdopen(fd, "w") as handle:
            handle.write(self._config())
        return conf

    def start(self, timeout: float = 20.0, ready: tuple[str, ...] | None = None) -> Named:
        """Returns once every zone (or those in `ready`) answers its SOA."""
        ensure_loopback_address(self.address)
        self.workdir.mkdir(parents=True, exist_ok=True)
        conf = self.write_config()
        log = open(self.workdir / "named.log", "wb")
        self.process = subprocess.Popen([named_binary(), "-g", "-c", str(conf)], stdout=log,
                                        stderr=subprocess.STDOUT, cwd=self.workdir)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"named exited ({self.process.returncode}):\n"
                                   + (self.workdir / "named.log").read_text()[-3000:])
            if all(self._serves(name) for name in (ready if ready is not None else [z.name for z in self.zones])):
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("named did not start serving in time:\n" + (self.workdir / "named.log").read_text()[-3000:])

    def _serves(self, zone: str) -> bool:
        try:
            response = dns.query.udp(dns.message.make_query(zone, "SOA"), self.address, port=self.port, timeout=0.5)
        except (dns.exception.DNSException, OSError):
            return False
        return response.rcode() == dns.rcode.NOERROR and bool(response.answer)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
