"""PostgreSQL only: the day's flagged scores in the Today page's order, account ids included.

"Health worsened" then reads a team's first rows in order from the index alone and probes each
account's owner, instead of hashing the whole book. SQLite cannot index NULLS LAST, and its
books are small; the model's healthscore_flagged_day_idx serves it there.
"""

from django.db import migrations

INDEX = "healthscore_flagged_rank_idx"


def create(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON accounts_healthscore "
            "(day, score_drop DESC NULLS LAST, score, id) INCLUDE (account_id) WHERE flagged"
        )


def drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0006_account_last_touch")]

    operations = [migrations.RunPython(create, drop)]
