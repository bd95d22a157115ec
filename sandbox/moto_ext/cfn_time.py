"""Stack operations that take time, and a stack update that fails, on request (tests).

moto creates and updates a stack within the request. A pipeline that deploys many stacks must
still meet credentials that expire while it works, so a test may say how long one stack operation
takes: each CreateStack, UpdateStack and DeleteStack then moves the sandbox clock that much. The
operations are charged one after the other, even when the CDK CLI runs them concurrently: the
stricter reading (more time passes than in AWS, never less).

A test may instead have CloudFormation stall: at the Nth stack operation from now the clock jumps
ahead (`stalls`: {N: seconds}), or at the next GetTemplate (`stall_on_read`: seconds), as when a
region is slow; credentials taken before it may then run out in the middle of a run.

A test may also make the next update of a stack fail: the stack is left UPDATE_ROLLBACK_COMPLETE
with its previous template and parameters, as CloudFormation leaves a failed update that rolled
back (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/troubleshooting.html#troubleshooting-errors-update-rollback-failed
describes the states; a rollback that completes restores the previous configuration).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from moto.cloudformation.models import CloudFormationBackend

_lock = threading.Lock()
# moto's CloudFormation is not safe for concurrent requests ("dictionary changed size during
# iteration" when the CDK CLI creates stacks `--concurrency N` at once): stack operations and the
# reads of the stacks' map take turns here. CloudFormation itself runs them in parallel.
_stacks = threading.RLock()
SETTINGS: dict[str, Any] = {"seconds_per_operation": 0.0, "fail_next_update": {}, "stalls": {}, "operations": 0,
                            "stall_on_read": 0.0}


def configure(body: dict[str, Any]) -> dict[str, Any]:
    with _lock:
        if "seconds_per_operation" in body:
            SETTINGS["seconds_per_operation"] = float(body["seconds_per_operation"])
        if "stalls" in body:
            SETTINGS["stalls"] = {int(n): float(seconds) for n, seconds in body["stalls"].items()}
            SETTINGS["operations"] = 0
        SETTINGS["stall_on_read"] = float(body.get("stall_on_read", SETTINGS["stall_on_read"]))
        SETTINGS["fail_next_update"].update(body.get("fail_next_update") or {})
        return {**SETTINGS, "fail_next_update": dict(SETTINGS["fail_next_update"]), "stalls": dict(SETTINGS["stalls"])}


def _elapse(read: bool = False) -> None:
    clock = os.environ.get("TUTORMAIL_CLOCK_FILE")
    with _lock:
        if read:
            seconds, SETTINGS["stall_on_read"] = SETTINGS["stall_on_read"], 0.0
        else:
            SETTINGS["operations"] += 1
            seconds = SETTINGS["seconds_per_operation"] + SETTINGS["stalls"].pop(SETTINGS["operations"], 0.0)
        if seconds and clock:
            path = Path(clock)
            path.write_text(str(float(path.read_text() or 0) + seconds))


def _failure(name: str) -> str | None:
    with _lock:
        return SETTINGS["fail_next_update"].pop(name, None)


def patch() -> None:
    create, update, delete = (CloudFormationBackend.create_stack, CloudFormationBackend.update_stack,
                              CloudFormationBackend.delete_stack)
    get_template = CloudFormationBackend.get_template

    def read_template(self, *args, **kwargs):
        _elapse(read=True)
        with _stacks:
            return get_template(self, *args, **kwargs)

    describe = CloudFormationBackend.describe_stacks

    def describe_stacks(self, *args, **kwargs):
        with _stacks:
            return list(describe(self, *args, **kwargs))

    def create_stack(self, *args, **kwargs):
        _elapse()
        with _stacks:
            return create(self, *args, **kwargs)

    def update_stack(self, name: str, *args, **kwargs):
        _elapse()
        reason = _failure(name)
        if reason is None:
            with _stacks:
                return update(self, name, *args, **kwargs)
        stack = self.get_stack(name)
        stack._add_stack_event("UPDATE_IN_PROGRESS", resource_status_reason="User Initiated")
        stack._add_stack_event("UPDATE_FAILED", resource_status_reason=reason)
        stack._add_stack_event("UPDATE_ROLLBACK_COMPLETE")
        stack.status = "UPDATE_ROLLBACK_COMPLETE"
        return stack

    def delete_stack(self, *args, **kwargs):
        _elapse()
        with _stacks:
            return delete(self, *args, **kwargs)

    CloudFormationBackend.create_stack = create_stack
    CloudFormationBackend.update_stack = update_stack
    CloudFormationBackend.delete_stack = delete_stack
    CloudFormationBackend.get_template = read_template
    CloudFormationBackend.describe_stacks = describe_stacks
