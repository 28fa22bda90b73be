"""HealthScore keyed by (account, day), without ``id``; on PostgreSQL partitioned by month of ``day``.

Django cannot alter a primary key into a composite one, so the table is rebuilt: the old table is
renamed, the new one created, the rows copied, the old table dropped (one transaction).

- PostgreSQL: ``PARTITION BY RANGE (day)``, one partition per month holding rows (plus the current
  and next month) and a DEFAULT partition for any other day (``health.partitions`` moves such rows
  into their month when it creates it). Columns are ordered widest-aligned first so a row wastes no
  padding, and ``parts`` is compressed inline (lz4, every row over 128 bytes). The indexes are each
  partition's own, not the parent's, so that an old month can carry smaller ones: a month being
  written has the unique (account, day) key, a btree on ``day`` and the two partial indexes on
  flagged rows (the Today page's order, ``..._rank``, ends with ``account_id`` instead of ``id``);
  ``health.partitions.compact`` later swaps the first two for a deduplicated btree on ``account_id``
  and a BRIN on ``day``. The model's ``Meta.indexes`` describe the SQLite table only: a later
  migration that alters them must be PostgreSQL-aware, like this one.
- SQLite: a plain table, created from the model.

Not reversible: the ids are gone.
"""

from datetime import date

from django.db import migrations, models
from django.utils import timezone

import accounts.models
import django.core.validators
import django.db.models.deletion

TABLE = "accounts_healthscore"
COLUMNS = (
    "account_id, day, score, previous_score, score_drop, band_worsened, flagged, check_overdue, band, "
    "previous_band, model_id, parts"
)

CREATE_POSTGRESQL = f"""
CREATE TABLE {TABLE} (
    account_id bigint NOT NULL
        CONSTRAINT healthscore_account_fk REFERENCES accounts_account (id) DEFERRABLE INITIALLY DEFERRED,
    day date NOT NULL,
    score smallint NOT NULL CONSTRAINT healthscore_score_positive CHECK (score >= 0),
    previous_score smallint NULL CONSTRAINT healthscore_previous_score_positive CHECK (previous_score >= 0),
    score_drop smallint NULL,
    band_worsened boolean NOT NULL,
    flagged boolean NOT NULL,
    check_overdue boolean NOT NULL,
    band varchar(10) NOT NULL,
    previous_band varchar(10) NOT NULL,
    model_id bigint NULL
        CONSTRAINT healthscore_model_fk REFERENCES accounts_healthmodel (id) DEFERRABLE INITIALLY DEFERRED,
    parts double precision[] COMPRESSION lz4 NULL,
    CONSTRAINT healthscore_score_max_100 CHECK (score <= 100)
) PARTITION BY RANGE (day)
"""
# A copy of health.partitions.WRITABLE_INDEXES as it was when this migration was written.
PARTITION_INDEXES = (
    "CREATE UNIQUE INDEX {name}_key ON {name} (account_id, day)",
    "CREATE INDEX {name}_day ON {name} (day)",
    "CREATE INDEX {name}_flagged ON {name} (day) WHERE flagged",
    "CREATE INDEX {name}_rank ON {name} (day, score_drop DESC NULLS LAST, score, account_id) WHERE flagged",
)


def _partition(cursor, name: str, bounds: str) -> None:
    cursor.execute(f"CREATE TABLE {name} PARTITION OF {TABLE} {bounds} WITH (toast_tuple_target = 128)")
    for statement in PARTITION_INDEXES:
        cursor.execute(statement.format(name=name))


def _next(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def _months(first: date, last: date) -> list[date]:
    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = _next(month)
    return months


def rebuild(apps, schema_editor) -> None:
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {TABLE} RENAME TO {TABLE}_old")
        for name in ("healthscore_flagged_rank_idx", "healthscore_flagged_day_idx", "healthscore_day_account_idx"):
            cursor.execute(f"DROP INDEX IF EXISTS {name}")
        if connection.vendor == "postgresql":
            for name in ("healthscore_one_per_account_day", "healthscore_score_max_100", f"{TABLE}_pkey"):
                cursor.execute(f"ALTER TABLE {TABLE}_old DROP CONSTRAINT IF EXISTS {name}")
            cursor.execute(f"SELECT MIN(day), MAX(day) FROM {TABLE}_old")  # noqa: S608
            first, last = cursor.fetchone()
            today = timezone.localdate()
            first = min(first or today, today)
            last = max(last or today, _next(today.replace(day=1)))
            cursor.execute(CREATE_POSTGRESQL)
            for month in _months(first, last):
                bounds = f"FOR VALUES FROM ('{month.isoformat()}') TO ('{_next(month).isoformat()}')"
                _partition(cursor, f"{TABLE}_p{month:%Y%m}", bounds)
            _partition(cursor, f"{TABLE}_default", "DEFAULT")
        else:
            schema_editor.create_model(apps.get_model("accounts", "HealthScore"))
        cursor.execute(f"INSERT INTO {TABLE} ({COLUMNS}) SELECT {COLUMNS} FROM {TABLE}_old")  # noqa: S608
        cursor.execute(f"DROP TABLE {TABLE}_old")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_health_component_survey")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="HealthScore"),
                migrations.CreateModel(
                    name="HealthScore",
                    fields=[
                        ("pk", models.CompositePrimaryKey("account", "day", blank=True, editable=False, primary_key=True, serialize=False)),
                        ("day", models.DateField()),
                        ("score", models.PositiveSmallIntegerField(validators=[django.core.validators.MaxValueValidator(100)])),
                        ("band", models.CharField(choices=[("green", "Green"), ("yellow", "Yellow"), ("red", "Red")], max_length=10)),
                        ("previous_score", models.PositiveSmallIntegerField(blank=True, null=True)),
                        ("previous_band", models.CharField(blank=True, choices=[("green", "Green"), ("yellow", "Yellow"), ("red", "Red")], default="", max_length=10)),
                        ("score_drop", models.SmallIntegerField(blank=True, help_text="Previous score minus this one: positive when health fell.", null=True)),
                        ("band_worsened", models.BooleanField(default=False)),
                        ("flagged", models.BooleanField(default=False, help_text="Band worsened, or the score dropped by more than the model's alert amount.")),
                        ("check_overdue", models.BooleanField(default=False, help_text="No health check within the program's cadence.")),
                        ("parts", accounts.models.FloatListField(default=list, help_text="Every component's numbers, packed; read ``components``.", null=True)),
                        ("account", models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="health_scores", to="accounts.account")),
                        ("model", models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to="accounts.healthmodel")),
                    ],
                    options={
                        "ordering": ["account", "-day"],
                        "indexes": [
                            models.Index(condition=models.Q(("flagged", True)), fields=["day"], name="healthscore_flagged_day_idx"),
                            models.Index(fields=["day"], name="healthscore_day_idx"),
                        ],
                        "constraints": [
                            models.CheckConstraint(condition=models.Q(("score__lte", 100)), name="healthscore_score_max_100"),
                        ],
                    },
                ),
            ],
        ),
        migrations.RunPython(rebuild, elidable=False),
    ]
