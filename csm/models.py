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
