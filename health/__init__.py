"""Health: the score, its nightly recalculation, its explanation and its calibration.

The score is a weighted mean of component scores. Each component maps one input onto 0 to 100
between two admin-set thresholds (``worst`` scores 0, ``best`` 100, clamped). A missing input
(no usage data, no health check yet, ...) is left out and its weight is spread over the others;
it never counts as zero. ``score_inputs`` is the formula in Python; ``recalculate_health``
computes the same formula in set-based SQL over chunks of account ids, and a test holds the
two to identical results.

Modules: `scoring` (the formula and one account's inputs), `sql` (the same formula as
set-based SQL), `nightly` (the job), `checks` (health checks and when they are due), `explain`
(why a score is what it is) and `calibration` (does the score predict churn).
"""
