"""What a health-model change would do to tonight's bands, without saving anything.

The accounts the model scores (its program's, or for the default model every account whose
program has no model of its own) are re-scored with ``scoring.score_inputs`` from the inputs of
their latest nightly score, under the current and the proposed model; the page shows how many
accounts each band would hold before and after, and how many would move.
"""

from dataclasses import dataclass, field
from datetime import date

from accounts.models import Account, AccountQuerySet, HealthModel, HealthScore

from .scoring import KINDS, ModelSpec, Spec, score_inputs

BANDS = ("green", "yellow", "red", "unscored")


@dataclass
class BandShift:
    day: date | None  # the nightly run whose inputs were used
    accounts: int = 0
    before: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BANDS, 0))
    after: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BANDS, 0))
    moved: int = 0

    @property
    def rows(self) -> list[tuple[str, int, int, int]]:
        return [(band, self.before[band], self.after[band], self.after[band] - self.before[band]) for band in BANDS]


def proposed_spec(
    *, model_id: int | None, green_min: int, yellow_min: int, drop_alert: int, components: dict[str, tuple]
) -> ModelSpec:
    """A ModelSpec from form values: ``components`` maps kind → (weight, worst, best)."""
    return ModelSpec(
        model_id=model_id,
        green_min=green_min,
        yellow_min=yellow_min,
        drop_alert=drop_alert,
        components={kind: _spec(kind, components.get(kind)) for kind in KINDS},
    )


def _spec(kind: str, values: tuple | None) -> Spec:
    # A kind the model leaves out weighs 0, as ModelSpec.of has it.
    return Spec(kind, float(values[0]), float(values[1]), float(values[2])) if values else Spec(kind, 0.0, 0.0, 1.0)


def scored_accounts(*, program_id: int | None) -> AccountQuerySet:
    """The accounts a model scores: its program's, or (default model) those whose program has none."""
    if program_id is not None:
        return Account.objects.filter(program_id=program_id)
    own = HealthModel.objects.filter(program__isnull=False).values("program_id")
    return Account.objects.exclude(program_id__in=own)


def band_shift(*, program_id: int | None, current: ModelSpec | None, proposed: ModelSpec, today: date) -> BandShift:
    """Bands of the latest run's inputs under ``current`` (None: as stored) and ``proposed``."""
    day = HealthScore.objects.filter(day__lte=today).order_by("-day").values_list("day", flat=True).first()
    shift = BandShift(day=day)
    if day is None:
        return shift
    accounts = scored_accounts(program_id=program_id).active()
    scores = HealthScore.objects.filter(day=day, account__in=accounts).only("pk", "account", "band", "parts", "score")
    scored = set()
    for score in scores.iterator(chunk_size=2000):
        scored.add(score.account_id)
        inputs = {kind: part.get("input") for kind, part in score.components.items()}
        if current is None:
            before = score.band
        else:
            result = score_inputs(inputs, current)
            before = current.band(result.score) if result.score is not None else "unscored"
        result = score_inputs(inputs, proposed)
        after = proposed.band(result.score) if result.score is not None else "unscored"
        shift.before[before] += 1
        shift.after[after] += 1
        shift.moved += before != after
    # Accounts with no score in that run stay unscored either way.
    unscored = accounts.count() - len(scored)
    shift.before["unscored"] += unscored
    shift.after["unscored"] += unscored
    shift.accounts = len(scored) + unscored
    return shift
