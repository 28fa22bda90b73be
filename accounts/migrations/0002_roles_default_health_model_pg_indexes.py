"""What the models cannot say: the role groups, the default health model, and two PostgreSQL-only
index sets written as SQL (SQLite has neither NULLS LAST in an index nor trigram search; its books
are small and it scans).

- ``healthscore_flagged_rank_idx``: the day's flagged scores in the Today page's order, account ids
  included, so "Health worsened" reads a team's first rows in order from the index alone. On SQLite
  the model's ``healthscore_flagged_day_idx`` serves it.
- ``account_name_trgm_idx`` and ``account_external_upper_idx``: the account list's search is
  ``name__icontains`` or ``external_id__iexact``, on PostgreSQL ``UPPER(name::text) LIKE UPPER('%q%')``
  and ``UPPER(external_id::text) = UPPER('q')``; a trigram GIN index serves the first, a plain index
  on the upper-cased id the second, and the two combine (BitmapOr) instead of reading every account.
"""

from decimal import Decimal

from django.db import migrations

ROLES = ("CSM", "Manager", "Admin", "Read-only")

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

CREATE_POSTGRESQL = [
    "CREATE INDEX IF NOT EXISTS healthscore_flagged_rank_idx ON accounts_healthscore "
    "(day, score_drop DESC NULLS LAST, score, id) INCLUDE (account_id) WHERE flagged",
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS account_name_trgm_idx ON accounts_account USING gin (UPPER(name::text) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS account_external_upper_idx ON accounts_account (UPPER(external_id::text))",
]
DROP_POSTGRESQL = [
    "DROP INDEX IF EXISTS healthscore_flagged_rank_idx",
    "DROP INDEX IF EXISTS account_name_trgm_idx",
    "DROP INDEX IF EXISTS account_external_upper_idx",
]


def create_groups(apps, schema_editor) -> None:
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


def create_default_model(apps, schema_editor) -> None:
    HealthModel = apps.get_model("accounts", "HealthModel")
    HealthComponent = apps.get_model("accounts", "HealthComponent")
    model, created = HealthModel.objects.get_or_create(is_default=True, defaults={"name": "Default"})
    if created:
        HealthComponent.objects.bulk_create(
            HealthComponent(model=model, kind=kind, weight=weight, worst=Decimal(worst), best=Decimal(best))
            for kind, weight, worst, best in DEFAULTS
        )


def on_postgresql(statements: list[str]):
    def operation(apps, schema_editor) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return operation


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [
        migrations.RunPython(create_groups, migrations.RunPython.noop),
        migrations.RunPython(create_default_model, migrations.RunPython.noop),
        migrations.RunPython(on_postgresql(CREATE_POSTGRESQL), on_postgresql(DROP_POSTGRESQL), elidable=False),
    ]
