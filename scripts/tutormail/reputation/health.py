"""Each institution's sending health, read for a fleet in batches.

AWS calls for N institutions: CloudWatch GetMetricData, 500 queries a call and two per institution
(bounce and complaint rates), so 4 calls per 1000; DescribeAlarms by name, 100 a call; the pause
marks from one Scan of the progress table (shared with `status`'s sweep); SES GetConfigurationSet
only when a few institutions are named (the fleet view trusts the pause marks); CloudWatch Logs
FilterLogEvents on the event log, one bounded read (aws/cloudwatch.py, aws/logs.py, aws/sending.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tutormail import names
from tutormail.aws import sending
from tutormail.aws.client import ByService
from tutormail.aws.cloudwatch import read_alarms, read_rates
from tutormail.aws.logs import log_events
from tutormail.catalog.reputation_fields import Thresholds
from tutormail.reputation.pause import PauseMark

CONFIRM_WITH_SES = 20  # up to this many institutions, the sending switch is read from SES itself
EVENT_PAGES = 20  # 20,000 log lines: a bound on one command's reads
EVENTS_KEPT = 3


@dataclass
class Health:
    slug: str
    thresholds: Thresholds
    rates: dict[str, float | None] = field(default_factory=dict)
    alarms: dict[str, str] = field(default_factory=dict)  # alarm name -> state
    alarm_reasons: dict[str, str] = field(default_factory=dict)
    mark: PauseMark | None = None
    sending_enabled: bool | None = None  # None: not read from SES
    events: list[str] = field(default_factory=list)

    @property
    def paused(self) -> bool:
        if self.sending_enabled is not None:
            return not self.sending_enabled
        return bool(self.mark and self.mark.paused)

    def above_pause_level(self) -> list[str]:
        """Which rates (or pause alarms) still stand at or above the pause level."""
        found = [f"{kind} rate {rate:g} >= {getattr(self.thresholds, f'pause_{kind}_rate'):g}"
                 for kind, rate in self.rates.items()
                 if rate is not None and rate >= getattr(self.thresholds, f"pause_{kind}_rate")]
        found += [f"alarm {name} is in ALARM" for name, state in self.alarms.items()
                  if state == "ALARM" and name.startswith(names.pause_alarm_prefix())]
        return found

    @property
    def why(self) -> str:
        if not self.paused:
            return ""
        if self.mark and self.mark.paused:
            return f"paused {self.mark.at} by {self.mark.by}: {self.mark.reason}"
        return "sending is off in SES, with no recorded reason (turned off outside tutormail?)"

    @property
    def health(self) -> str:
        if self.paused:
            return "paused"
        if any(state == "ALARM" for state in self.alarms.values()):
            return "warning"
        return "ok"

    def as_dict(self) -> dict[str, Any]:
        return {"institution": self.slug, "health": self.health, "paused": self.paused, "why": self.why or None,
                "bounce_rate": self.rates.get("bounce"), "complaint_rate": self.rates.get("complaint"),
                "alarms": dict(sorted(self.alarms.items())), "last_events": self.events,
                "sending_source": "ses" if self.sending_enabled is not None else "pause mark",
                "thresholds": {k: getattr(self.thresholds, k) for k in sorted(vars(self.thresholds))}}


def read_events(logs: Any, slugs: Iterable[str], now: datetime) -> dict[str, list[str]]:
    """The last bounces/complaints/rejects of each institution, from the event record: one JSON line
    per event (event_log.handler), attributed by its configuration set. Lambda's own lines in the
    same log group (START, END, REPORT) are not events and are skipped.

    The window's lines are read to the end (aws/logs.py; at most EVENT_PAGES pages), the newest
    window first: the last hour, then the last day."""
    wanted = set(slugs)
    events: dict[str, list[str]] = {}
    for window in (timedelta(hours=1), timedelta(days=1)):
        entries = log_events(logs, names.EVENT_LOG_GROUP, int((now - window).timestamp() * 1000), EVENT_PAGES)
        if entries is None:
            return {}
        events = {}
        for entry in entries:
            logged = _logged_event(entry.get("message", ""))
            slug = names.slug_of_configuration_set(logged.get("configuration_set")) if logged else None
            if slug in wanted:
                events.setdefault(slug, []).append(_event_text(entry.get("timestamp", 0), logged))
        if wanted <= set(events):  # every institution asked about has events in the last hour
            break
    return {slug: found[-EVENTS_KEPT:] for slug, found in events.items()}


def _logged_event(message: str) -> dict[str, Any] | None:
    try:
        logged = json.loads(message)
    except ValueError:
        return None
    return logged if isinstance(logged, dict) and "event" in logged else None


def _event_text(timestamp: int, logged: dict[str, Any]) -> str:
    """`<time> <type> from=... [bounce=...|complaint=...|reject=...] message_id=... recipients=*@domain,...`"""
    at = datetime.fromtimestamp(timestamp / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    parts = [at, str(logged.get("event")), f"from={logged.get('from') or ''}"]
    parts += [f"{key}={logged[key]}" for key in ("bounce", "complaint", "reject") if logged.get(key)]
    recipients = logged.get("recipients") if isinstance(logged.get("recipients"), list) else []
    parts += [f"message_id={logged.get('message_id') or ''}", "recipients=" + ",".join(map(str, recipients))]
    return " ".join(parts)


def rate_text(value: float | None) -> str:
    return "-" if value is None else f"{value:.2%}"


@dataclass(frozen=True)
class SendingColumns:
    """The sending-health columns of a `status` row; `as_dict` is their part of its JSON."""
    sending: str | None = None  # Health.health (ok | warning | paused); None: not read
    bounce_rate: float | None = None
    complaint_rate: float | None = None
    paused_why: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"sending": self.sending, "bounce_rate": self.bounce_rate, "complaint_rate": self.complaint_rate,
                "paused_why": self.paused_why}


def health_columns(health: Health) -> SendingColumns:
    """The sending-health columns `status` adds to each row."""
    return SendingColumns(health.health, health.rates.get("bounce"), health.rates.get("complaint"), health.why or None)


def sending_enabled(sesv2: Any, slug: str) -> bool | None:
    return sending.sending_enabled(sesv2, names.configuration_set(slug))


def read_health(thresholds: dict[str, Thresholds], marks: dict[str, dict[str, str]], clients: ByService,
                now: datetime | None = None) -> list[Health]:
    """`thresholds` and progress `marks` by slug."""
    now = now or datetime.now(UTC)
    slugs = sorted(thresholds)
    rates = read_rates(clients["cloudwatch"], slugs, now)
    alarms = read_alarms(clients["cloudwatch"], slugs)
    events = read_events(clients["logs"], slugs, now)
    result = []
    for slug in slugs:
        health = Health(slug, thresholds[slug], rates[slug], events=events.get(slug, []),
                        mark=PauseMark.from_marks(marks.get(slug, {})))
        for name in _alarm_names(slug):
            if name in alarms:
                health.alarms[name], health.alarm_reasons[name] = alarms[name]
        if len(slugs) <= CONFIRM_WITH_SES:
            health.sending_enabled = sending_enabled(clients["sesv2"], slug)
        result.append(health)
    return result


def _alarm_names(slug: str) -> Iterable[str]:
    return (names.alarm_name(slug, level, kind) for level in names.LEVELS for kind in names.KINDS)
