"""Signals from the apps below that suggest an expansion.

The surveys app (issue #18 items 1-2, built in parallel) sits below growth: when it sends a
``survey_answered`` signal (``surveys.signals``) with ``account``, ``score``, ``answered_on``
and ``response`` (or ``answer``), a promoter's score (9-10 on NPS) raises a suggestion once per
answer. Until that app exists, nothing is connected. Receivers never raise: a missed suggestion
is logged, the answer stands.
"""

import importlib
import logging
from typing import Any

from django.utils import timezone

from . import services

log = logging.getLogger(__name__)


def promoter_answered(sender: object, **kwargs: Any) -> None:
    try:
        account = kwargs["account"]
        score = kwargs.get("score")
        answer = kwargs.get("response") or kwargs.get("answer")
        if score is None or getattr(answer, "kind", "nps") not in ("nps", "NPS"):
            return
        answered_on = kwargs.get("answered_on") or kwargs.get("today") or timezone.localdate()
        services.suggest_for_promoter(
            account=account, score=int(score), answered_on=answered_on, answer_key=str(getattr(answer, "pk", answer))
        )
    except Exception:
        log.exception("No promoter suggestion for a survey answer")


def connect_surveys() -> bool:
    """Connect to ``surveys.signals.survey_answered`` when that app is installed."""
    try:
        signals = importlib.import_module("surveys.signals")
    except ImportError:
        return False
    signal = getattr(signals, "survey_answered", None)
    if signal is None:
        return False
    signal.connect(promoter_answered, dispatch_uid="growth.promoter_answered")
    return True


connect_surveys()
