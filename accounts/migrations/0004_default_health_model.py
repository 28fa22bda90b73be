from decimal import Decimal

from django.db import migrations

# A copy of HealthComponent.DEFAULTS as it was when this migration was written.
DEFAULTS = (
    ("adoption", 20, "20", "85"),
    ("feature_depth", 10, "5", "40"),
    ("onboarding", 10, "0", "100"),
    ("success_plan", 10, "0", "80"),
    ("engagement_recency", 10, "90", "7"),
    ("engagement_quality", 10, "10", "80"),
    ("support", 10, "8", "0"),
    ("availability", 5, "95", "99.9"),
    ("sentiment", 10, "1", "5"),
    ("commercial", 5, "20", "90"),
)


def create_default_model(apps, schema_editor):
    HealthModel = apps.get_model("accounts", "HealthModel")
    HealthComponent = apps.get_model("accounts", "HealthComponent")
    model, created = HealthModel.objects.get_or_create(is_default=True, defaults={"name": "Default"})
    if created:
        HealthComponent.objects.bulk_create(
            HealthComponent(model=model, kind=kind, weight=weight, worst=Decimal(worst), best=Decimal(best))
            for kind, weight, worst, best in DEFAULTS
        )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_health_models")]

    operations = [migrations.RunPython(create_default_model, migrations.RunPython.noop)]
