"""The platform's pause Lambda: a pause alarm went into ALARM, so that institution stops sending.

Triggered by an EventBridge rule on "CloudWatch Alarm State Change" events of `tutormail-pause-*`
alarms (infra/reputation.py); the sandbox calls `handler` with the same events.
"""

from __future__ import annotations

import json
import os
from typing import Any

from tutormail.aws.client import function_client
from tutormail.aws.progress_store import ProgressStore
from tutormail.reputation.pause import AUTOMATIC, decide, switch


def handler(event: dict[str, Any], context: Any = None, session: Any = None) -> dict[str, Any]:
    """Lambda calls (event, context) with the role's credentials in the environment; the sandbox
    passes a session of the same role."""
    decision = decide(event)
    if decision is None:
        print(json.dumps({"action": "none", "alarm": (event.get("detail") or {}).get("alarmName")}))
        return {"paused": None}
    slug, reason = decision
    region = os.environ.get("AWS_REGION") or event.get("region") or "us-east-1"
    sesv2 = function_client("sesv2", region, session)
    store = ProgressStore(region, function_client("dynamodb", region, session))
    mark = switch(sesv2, store, slug, paused=True, by=AUTOMATIC, reason=reason)
    # The function's log is the second record of the pause (the first is the institution's progress).
    print(json.dumps({"action": "paused", "institution": slug, "at": mark.at, "reason": reason}))
    return {"paused": slug}
