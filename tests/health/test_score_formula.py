"""The formula itself: bounded, deterministic, monotone, and honest about missing inputs."""

from hypothesis import given, settings
from hypothesis import strategies as st

from accounts.models import HealthComponent
from health.scoring import KINDS, ModelSpec, Spec, normalize, score_inputs

SPEC = ModelSpec(
    model_id=1,
    green_min=70,
    yellow_min=40,
    drop_alert=15,
    components={kind: Spec(kind, float(w), float(lo), float(hi)) for kind, w, lo, hi in HealthComponent.DEFAULTS},
)
value = st.one_of(st.none(), st.floats(min_value=-1000, max_value=1000, allow_nan=False))
inputs_strategy = st.fixed_dictionaries(dict.fromkeys(KINDS, value))


@settings(max_examples=300, deadline=None)
@given(inputs_strategy)
def test_the_score_is_between_0_and_100_or_absent_when_every_input_is_missing(inputs) -> None:
    result = score_inputs(inputs, SPEC)
    if all(v is None for v in inputs.values()):
        assert result.score is None
    else:
        assert 0 <= result.score <= 100


@settings(max_examples=100, deadline=None)
@given(inputs_strategy)
def test_the_same_inputs_always_give_the_same_score(inputs) -> None:
    assert score_inputs(inputs, SPEC) == score_inputs(dict(inputs), SPEC)


@settings(max_examples=300, deadline=None)
@given(inputs_strategy, st.sampled_from(KINDS), st.floats(min_value=0, max_value=200, allow_nan=False))
def test_moving_any_input_towards_its_best_value_never_lowers_the_score(inputs, kind, step) -> None:
    spec = SPEC.components[kind]
    start = inputs[kind] if inputs[kind] is not None else spec.worst
    inputs = {**inputs, kind: start}
    better = {**inputs, kind: start + step if spec.best > spec.worst else start - step}
    assert score_inputs(better, SPEC).score >= score_inputs(inputs, SPEC).score


def test_each_input_moves_the_score_the_expected_way() -> None:
    middle = {kind: (SPEC.components[kind].worst + SPEC.components[kind].best) / 2 for kind in KINDS}
    base = score_inputs(middle, SPEC).score
    for kind in KINDS:
        spec = SPEC.components[kind]
        assert score_inputs({**middle, kind: spec.best}, SPEC).score > base, kind
        assert score_inputs({**middle, kind: spec.worst}, SPEC).score < base, kind


def test_fewer_open_cases_and_more_recent_touchpoints_are_healthier() -> None:
    assert normalize(0, worst=8, best=0) == 100.0
    assert normalize(8, worst=8, best=0) == 0.0
    assert normalize(4, worst=8, best=0) == 50.0
    assert normalize(3, worst=90, best=7) == 100.0
    assert normalize(120, worst=90, best=7) == 0.0


def test_a_missing_input_spreads_its_weight_over_the_others_instead_of_counting_as_zero() -> None:
    inputs = {kind: SPEC.components[kind].best for kind in KINDS}
    inputs["sentiment"] = None
    result = score_inputs(inputs, SPEC)
    assert result.score == 100, "a missing input must not drag a perfect account down"
    assert result.components["sentiment"]["input"] is None
    assert result.components["sentiment"]["weight"] == 0.0
    assert result.components["adoption"]["weight"] == 100.0 * 20 / 90
    assert abs(sum(part["weight"] for part in result.components.values()) - 100.0) < 1e-9


def test_the_contributions_add_up_to_the_score() -> None:
    inputs = {kind: SPEC.components[kind].worst * 0.3 + SPEC.components[kind].best * 0.7 for kind in KINDS}
    inputs["onboarding"] = None
    result = score_inputs(inputs, SPEC)
    total = sum(part["contribution"] for part in result.components.values())
    assert abs(total - result.score) <= 0.5


def test_a_component_with_weight_zero_is_left_out() -> None:
    spec = ModelSpec(
        model_id=2,
        green_min=70,
        yellow_min=40,
        drop_alert=15,
        components={**SPEC.components, "adoption": Spec("adoption", 0.0, 20.0, 85.0)},
    )
    good = {kind: SPEC.components[kind].best for kind in KINDS}
    assert score_inputs({**good, "adoption": 0.0}, spec).score == 100
    assert score_inputs({**good, "adoption": 0.0}, SPEC).score == 80
