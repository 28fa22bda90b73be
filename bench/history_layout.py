"""History layout, measured on PostgreSQL: bytes per account-day of ``HealthScore`` with full parts
and after the retention job empties parts beyond the window, and the calibration report's time.

Not part of ``make bench`` yet (its ``run`` protocol writes the committed sections); run by hand:

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/csm_scale_bench \\
        python -m bench.history_layout 2000 365
"""

import sys
import time
from datetime import date

import django


def _sizes(cursor) -> dict:
    cursor.execute(
        """SELECT count(*), pg_relation_size('accounts_healthscore'),
                  pg_indexes_size('accounts_healthscore'), pg_total_relation_size('accounts_healthscore')
           FROM accounts_healthscore"""
    )
    rows, heap, indexes, total = cursor.fetchone()
    return {"rows": rows, "heap_b": heap / rows, "index_b": indexes / rows, "total_b": total / rows}


def main(accounts: int, days: int) -> None:
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.db import connection

    from bench.db import ensure_database
    from health import calibration
    from retention import services

    ensure_database()
    today = date(2026, 12, 1)
    admin, _ = User.objects.get_or_create(username="bench-admin", defaults={"is_superuser": True, "is_staff": True})
    out: dict = {"accounts": accounts, "days": days}
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE accounts_account RESTART IDENTITY CASCADE")
        cursor.execute(
            """INSERT INTO accounts_account (name, external_id, segment, owner_id, lifecycle_stage,
                                             created_at, updated_at)
               SELECT 'Bench ' || g, 'B-' || g, 'smb', %s, 'mature', now(), now()
               FROM generate_series(1, %s) g""",
            [admin.pk, accounts],
        )
        started = time.perf_counter()
        # 50 numbers per row, as the nightly job writes them (PART_KINDS x PART_FIELDS); 0..7 keeps
        # the stage code valid, and a float8 takes 8 bytes whatever its value.
        cursor.execute(
            """INSERT INTO accounts_healthscore (account_id, day, score, band, previous_band, band_worsened,
                                                 flagged, check_overdue, parts)
               SELECT a.id, %s::date - d, 60 + mod(a.id + d, 40), 'green', '', false, false, false,
                      ARRAY(SELECT floor(random() * 8)::float8 + a.id * 0
                            FROM generate_series(1, 50))
               FROM accounts_account a CROSS JOIN generate_series(0, %s - 1) d""",
            [today, days],
        )
        out["insert_s"] = time.perf_counter() - started
        cursor.execute("VACUUM (ANALYZE) accounts_healthscore")
        out["full"] = _sizes(cursor)
    started = time.perf_counter()
    calibration.compute_calibration_report(user=admin, today=today)
    out["calibration_full_s"] = time.perf_counter() - started

    # The one-off catch-up over the whole history, as a first run on an old history would be set.
    settings.HEALTH_PARTS_CATCHUP_DAYS = days
    started = time.perf_counter()
    thinned = services.thin_health_parts(today=today, batch=5000, max_batches=10**6)
    out["thin_s"], out["thinned"] = time.perf_counter() - started, thinned
    with connection.cursor() as cursor:
        # The steady state: freed space is reused by later nights; VACUUM FULL shows it at once.
        cursor.execute("VACUUM FULL accounts_healthscore")
        cursor.execute("ANALYZE accounts_healthscore")
        out["thin"] = _sizes(cursor)
    started = time.perf_counter()
    calibration.compute_calibration_report(user=admin, today=today)
    out["calibration_thin_s"] = time.perf_counter() - started
    print(out)


if __name__ == "__main__":
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csm.settings")
    django.setup()
    main(int(sys.argv[1]), int(sys.argv[2]))
