"""What the nightly calibration snapshot keeps (health.calibration.take_snapshot).

The report's counts for viewers whose book is large (everyone, and each manager's teams), taken
once a day so that the page reads a few thousand rows instead of every account's score."""

from django.conf import settings
from django.db import models


class CalibrationSnapshot(models.Model):
    """The day's counts were taken, and for which managers (the others fall back to the live
    statement)."""

    day = models.DateField(primary_key=True)
    taken_at = models.DateTimeField()
    accounts = models.PositiveIntegerField()
    managers = models.JSONField(default=list)

    def __str__(self) -> str:
        return f"calibration counts of {self.day}"


class CalibrationCell(models.Model):
    """One step of the report's histogram for one viewer scope: kind -1 is a band (``bin`` its
    rank), kind k >= 0 the component ``PART_KINDS[k]`` (``bin`` its score in steps of
    ``calibration.SCORE_STEP``); the accounts lost and kept there and the sums of their scores."""

    day = models.DateField()
    horizon = models.PositiveSmallIntegerField()
    # Null: every account (admins, read-only); a manager: the books of their teams and their own.
    viewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.SmallIntegerField()
    bin = models.IntegerField()
    lost_n = models.IntegerField()
    kept_n = models.IntegerField()
    lost_sum = models.FloatField(null=True)  # null for a band (kind -1)
    kept_sum = models.FloatField(null=True)

    class Meta:
        indexes = [models.Index(fields=["day", "horizon", "viewer"], name="calibrationcell_scope_idx")]

    def __str__(self) -> str:
        return f"{self.day} {self.horizon} d, viewer {self.viewer_id}, kind {self.kind}, bin {self.bin}"
