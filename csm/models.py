from datetime import datetime

from django.conf import settings
from django.db import models


class JobRun(models.Model):
    """One row per scheduled job and day: a second run of the same day finds it and stops."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    job = models.CharField(max_length=100)
    day = models.DateField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "day"], name="jobrun_unique_job_day")]
        ordering = ["-day", "job"]

    def __str__(self) -> str:
        return f"{self.job} {self.day} ({self.status})"


class UserSession(models.Model):
    """One signed-in session of a user, so they can list their sessions and end them all."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="signed_in_sessions")
    session_key = models.CharField(max_length=40, unique=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()

    class Meta:
        ordering = ["-last_seen_at"]

    def __str__(self) -> str:
        return f"{self.user} since {self.created_at:%Y-%m-%d %H:%M}"


class ChangeStamp(models.Model):
    """A token replaced whenever the data may have changed: after every write request and job.

    Cached page fragments are keyed by it (csm/freshness.py), so the first read after a change
    computes afresh. It lives in the database, not the cache, so that every web worker sees a
    change made through any other.
    """

    key = models.CharField(max_length=40, primary_key=True)
    token = models.CharField(max_length=32)
    changed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.key} changed {self.changed_at:%Y-%m-%d %H:%M:%S}"


class OpsAlert(models.Model):
    """Something an administrator must know about, open once per ``key`` until it is resolved.

    ``smtp:paused`` is also a state: while it is open, notices wait instead of being sent
    (the relay refused the sender or the session; renewals.services).
    """

    key = models.CharField(max_length=100)
    title = models.CharField(max_length=200)
    detail = models.TextField(blank=True)
    opened_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["key"], condition=models.Q(resolved_at__isnull=True), name="opsalert_one_open_per_key"
            )
        ]

    def __str__(self) -> str:
        return self.title


class Heartbeat(models.Model):
    """The last sign of life of a process kind (``beat``, ``worker``): /healthz reads these."""

    key = models.CharField(max_length=50, unique=True)
    at = models.DateTimeField()
    detail = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"{self.key} at {self.at:%Y-%m-%d %H:%M:%S}"


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def usable(self, *, now: datetime) -> "ApiTokenQuerySet":
        """Not revoked and not past its expiry (expiry is the end of the ``expires_on`` day)."""
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ApiToken(models.Model):
    """A personal API token. Only a SHA-256 digest of the secret is kept; the secret is shown once.

    The token reads ``csm_<prefix>_<secret>``: the prefix finds the row, the digest of the whole
    token proves it (csm/tokens.py).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=80)
    prefix = models.CharField(max_length=12, unique=True)
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="apitoken_unique_user_name")]

    def __str__(self) -> str:
        return f"{self.name} ({self.user}, csm_{self.prefix}_…)"

    def state(self, now: datetime) -> str:
        if self.revoked_at:
            return "revoked"
        if self.expires_at and self.expires_at <= now:
            return "expired"
        return "active"
