"""The default notice schedule (every program without its own) and the starting reason codes."""

from django.db import migrations

REASONS = (
    ("price", "Price", "both"),
    ("no-adoption", "No adoption", "both"),
    ("champion-left", "Champion left", "both"),
    ("budget-cut", "Budget cut", "both"),
    ("acquired", "Acquired", "loss"),
    ("switched-to-competitor", "Switched to competitor", "loss"),
    ("fewer-seats", "Fewer seats needed", "downgrade"),
)


def forwards(apps, schema_editor):
    NoticeSchedule = apps.get_model("renewals", "NoticeSchedule")
    ReasonCode = apps.get_model("renewals", "ReasonCode")
    if not NoticeSchedule.objects.filter(program__isnull=True).exists():
        NoticeSchedule.objects.create(program=None, follow_up_days="30,14")
    for code, label, applies_to in REASONS:
        ReasonCode.objects.get_or_create(code=code, defaults={"label": label, "applies_to": applies_to})


class Migration(migrations.Migration):
    dependencies = [("renewals", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
