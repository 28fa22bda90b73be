from django.conf import settings
from django.db import models


class ImportJob(models.Model):
    """One uploaded CSV: validated in a dry run first, then imported all or nothing."""

    class Kind(models.TextChoices):
        ACCOUNTS = "accounts", "Accounts"
        CONTACTS = "contacts", "Contacts"
        CONTRACTS = "contracts", "Contracts"
        USAGE = "usage", "Usage snapshots"

    class Status(models.TextChoices):
        INVALID = "invalid", "Has errors"
        VALIDATED = "validated", "Ready to import"
        IMPORTED = "imported", "Imported"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="import_jobs")
    file_name = models.CharField(max_length=200)
    content = models.TextField()
    status = models.CharField(max_length=20, choices=Status.choices)
    total_rows = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    will_create = models.PositiveIntegerField(default=0)
    will_update = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    imported_at = models.DateTimeField(null=True, blank=True)
    # How the file is read (imports/mapping.py): its delimiter, header → field ("" ignores the
    # column), the date format assumed or chosen, and whether the user should check the mapping.
    delimiter = models.CharField(max_length=1, default=",")
    mapping = models.JSONField(default=dict, blank=True)
    date_format = models.CharField(max_length=10, default="iso")
    date_format_guessed = models.BooleanField(default=True)
    mapping_to_review = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} import {self.file_name} ({self.status})"


class ColumnMapping(models.Model):
    """A user's mapping of a header set, offered again for the next file with the same headers."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="column_mappings")
    kind = models.CharField(max_length=20, choices=ImportJob.Kind.choices)
    header_key = models.CharField(max_length=64, help_text="sha256 of the kind and the normalized, sorted headers.")
    mapping = models.JSONField(default=dict)
    date_format = models.CharField(max_length=10, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "header_key"], name="column_mapping_one_per_header_set")
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.kind} mapping"
