"""Settings for the worker and beat processes of the fault suite: the production settings with
beat ticking every 2 s and retries in seconds, so an outage plays out in a test's time."""

import os

from csm.settings import *  # noqa: F403

_EVERY = 2.0
_JOBS = {
    "heartbeat": {"task": "csm.tasks.heartbeat", "schedule": _EVERY, "options": {"expires": 10}},
    "sweep": {"task": "renewals.tasks.sweep_renewal_notices", "schedule": _EVERY},
    "plan": {"task": "renewals.tasks.plan_renewal_notices", "schedule": _EVERY},
}
CELERY_BEAT_SCHEDULE = {name: _JOBS[name] for name in os.environ.get("FAULT_BEAT_JOBS", "heartbeat,sweep").split(",")}
