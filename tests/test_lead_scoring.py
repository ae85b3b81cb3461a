"""Conversion scoring: the calibrated XGBoost scorer, its artefacts, the prior fallback, the
feature builders (demo group and X Education) and the cross-validation against logistic
regression."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from dealer_group.demo import DemoGroup, DemoSpec, generate
from dealer_group.demo_leads import TAGS
from lead_routing.features import (
    ADVISOR_FEATURES,
    X_EDUCATION_LEAKAGE,
    X_EDUCATION_SNAPSHOTS,
    TrainingSet,
    demo_lead_features,
    demo_training_set,
    smoothed_rate,
    x_education_training_set,
)
from lead_routing.scoring import (
    META_FILE,
    SCHEMA_VERSION,
    CalibrationMethod,
    LeadScorer,
    ScorerParams,
    ScorerSource,
    active_scorer,
    fit_scorer,
    load_scorer,
)
from lead_routing.scoring_eval import cross_validate
from lead_routing.scoring_prior import PriorScorer
from lead_routing.scoring_schema import FeatureSchema
from turnwise.errors import FailedPrecondition, InvalidArgument, NotFound

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
X_EDUCATION = SHARED_DATA / "x_education_leads"
FAST = ScorerParams(n_estimators=150, learning_rate=0.1, calibration_folds=3)

_GRADE_LOGIT = {"H": 1.5, "A": 0.7, "B": 0.0, "C": -1.0}


def _synthetic(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Leads whose log-odds are known: grade, walk-in channel and a numeric score drive
    conversion; ``visits`` is 20% missing and ``noise`` carries nothing."""
    rng = np.random.default_rng(seed)
    grade = rng.choice(list("HABC"), n)
    channel = rng.choice(["WEB", "PHONE", "WALK_IN", "DOUYIN"], n)
    score = rng.normal(size=n)
    visits = rng.poisson(3, n).astype(np.float64)
    visits[rng.random(n) < 0.2] = np.nan
    logit = (
        -1.0
        + np.vectorize(_GRADE_LOGIT.get)(grade)
        + 0.8 * (channel == "WALK_IN")
        + 1.0 * score
        + 0.15 * np.nan_to_num(visits, nan=3.0)
    )
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    frame = pd.DataFrame(
        {
            "grade": grade.astype(object),
            "channel": channel.astype(object),
            "score": score,
            "visits": visits,
            "noise": rng.normal(size=n),
        }
    )
    return frame, y


@pytest.fixture(scope="module")
def split() -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame, np.ndarray]:
    frame, y = _synthetic(2400, seed=7)
    return frame.iloc[:1800], y[:1800], frame.iloc[1800:].reset_index(drop=True), y[1800:]


@pytest.fixture(scope="module")
def scorer(split: tuple[pd.DataFrame, np.ndarray, pd.DataFrame, np.ndarray]) -> LeadScorer:
    train, y_train, _, _ = split
    return fit_scorer(train, y_train, FAST)


@pytest.fixture(scope="module")
def group() -> DemoGroup:
    return generate(DemoSpec(stores=8, trims=24, weeks=52, seed=1))


@pytest.fixture(scope="module")
def demo(group: DemoGroup) -> TrainingSet:
    return demo_training_set(group)


def _brier(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean((p - y) ** 2))


# --- the scorer on synthetic leads with a known signal ---


def test_scorer_beats_a_coin_on_held_out_leads(scorer, split) -> None:
    _, _, test, y_test = split
    p = scorer.predict_proba(test)
    assert p.shape == (len(test),)
    assert np.all((p >= 0) & (p <= 1))
    assert roc_auc_score(y_test, p) > 0.7
    summary = scorer.summary
    assert summary.rows == 1800 and summary.positives == int(split[1].sum())
    assert summary.cv_auc > 0.7
    assert 1 <= summary.rounds <= FAST.n_estimators
    assert len(scorer.boosters) == FAST.calibration_folds


def test_calibration_keeps_brier_of_a_well_fitted_booster(scorer, split) -> None:
    _, _, test, y_test = split
    calibrated = _brier(y_test, scorer.predict_proba(test))
    raw = _brier(y_test, scorer.predict_uncalibrated(test))
    assert calibrated <= raw + 0.002
    assert scorer.summary.cv_brier <= scorer.summary.brier_uncalibrated + 0.002


def test_calibration_repairs_an_underfitted_booster(split) -> None:
    """Five small steps from the base rate leave the booster's probabilities squeezed
    towards it; the calibration map stretches them back."""
    train, y_train, test, y_test = split
    params = ScorerParams(
        n_estimators=5, learning_rate=0.05, select_rounds=False, calibration_folds=3
    )
    weak = fit_scorer(train, y_train, params)
    calibrated = _brier(y_test, weak.predict_proba(test))
    raw = _brier(y_test, weak.predict_uncalibrated(test))
    assert calibrated < raw - 0.01
    assert weak.summary.cv_brier < weak.summary.brier_uncalibrated - 0.01


def test_calibration_method_can_be_fixed(split) -> None:
    train, y_train, test, _ = split
    params = ScorerParams(
        n_estimators=30, calibration_folds=3, calibration=CalibrationMethod.ISOTONIC
    )
    iso = fit_scorer(train, y_train, params)
    assert iso.summary.calibration is CalibrationMethod.ISOTONIC
    assert iso.calibration.method is CalibrationMethod.ISOTONIC
    p = iso.predict_proba(test)
    assert np.all((p >= 0) & (p <= 1))


def test_calibration_is_chosen_by_held_out_brier(scorer) -> None:
    summary = scorer.summary
    assert min(summary.positives, summary.rows - summary.positives) >= 500
    best = min(
        (summary.brier_platt, CalibrationMethod.PLATT),
        (summary.brier_isotonic, CalibrationMethod.ISOTONIC),
        key=lambda pair: pair[0],
    )
    assert summary.calibration is best[1]
    assert summary.cv_brier == best[0]


def test_isotonic_needs_enough_rows_of_each_class(split) -> None:
    train, y_train, _, _ = split
    params = ScorerParams(n_estimators=20, calibration_folds=3, isotonic_min_class_rows=1000)
    few = fit_scorer(train, y_train, params)
    assert few.summary.calibration is CalibrationMethod.PLATT
    assert few.summary.cv_brier == few.summary.brier_platt


def test_unseen_and_missing_categories_score_as_missing(scorer, split) -> None:
    _, _, test, _ = split
    rows = test.iloc[:3].copy()
    rows["channel"] = ["TELEPATHY", None, ""]
    rows = rows.assign(score=0.0, visits=np.nan, noise=0.0, grade="H")
    p = scorer.predict_proba(rows)
    assert np.all(np.isfinite(p))
    assert p[0] == p[1] == p[2]
    levels = ["WEB", "PHONE", "WALK_IN", "DOUYIN"]
    known = scorer.predict_proba(pd.concat([rows.iloc[[0]].assign(channel=c) for c in levels]))
    assert known.min() - 1e-12 <= p[0] <= known.max() + 1e-12


def test_rare_levels_are_treated_as_unseen() -> None:
    frame = pd.DataFrame({"channel": ["WEB"] * 6 + ["FAX"] * 2, "x": np.arange(8.0)})
    schema = FeatureSchema.infer(frame, min_level_rows=5)
    assert schema.numeric == ("x",)
    assert schema.levels == (("WEB",),)
    encoded = schema.encode(frame)
    assert np.isnan(encoded[6:, 1]).all() and (encoded[:6, 1] == 0).all()


def test_schema_types_columns() -> None:
    frame = pd.DataFrame(
        {"flag": [True, False], "level": [1, 2], "name": ["a", "b"], "rate": [0.5, np.nan]}
    )
    schema = FeatureSchema.infer(frame, categorical=["level"])
    assert schema.numeric == ("flag", "rate")
    assert schema.categorical == ("level", "name")
    assert schema.levels == (("1", "2"), ("a", "b"))
    with pytest.raises(InvalidArgument) as err:
        FeatureSchema.infer(frame.assign(when=pd.Timestamp("2026-01-01")))
    assert err.value.field == "when"


def test_save_load_round_trip_gives_identical_predictions(scorer, split, tmp_path) -> None:
    _, _, test, _ = split
    path = scorer.save(tmp_path / "scorer")
    loaded = load_scorer(path)
    np.testing.assert_array_equal(loaded.predict_proba(test), scorer.predict_proba(test))
    assert loaded.model_version == scorer.model_version and len(scorer.model_version) == 16
    assert loaded.schema == scorer.schema
    assert loaded.calibration == scorer.calibration
    assert loaded.params == scorer.params
    assert loaded.summary == scorer.summary
    meta = json.loads((path / META_FILE).read_text())
    assert meta["schema_version"] == SCHEMA_VERSION
    assert meta["summary"]["rows"] == 1800
    assert set(meta["summary"]) >= {"positive_rate", "cv_auc", "cv_brier", "created_at"}


def test_fits_are_deterministic(split) -> None:
    train, y_train, test, _ = split
    params = ScorerParams(n_estimators=20, calibration_folds=3, seed=3)
    first, second = fit_scorer(train, y_train, params), fit_scorer(train, y_train, params)
    assert first.model_version == second.model_version
    np.testing.assert_array_equal(first.predict_proba(test), second.predict_proba(test))


def test_loading_another_schema_version_fails_clearly(scorer, tmp_path) -> None:
    path = scorer.save(tmp_path / "scorer")
    meta = json.loads((path / META_FILE).read_text())
    meta["schema_version"] = SCHEMA_VERSION + 1
    (path / META_FILE).write_text(json.dumps(meta))
    with pytest.raises(FailedPrecondition) as err:
        load_scorer(path)
    assert err.value.field == f"{META_FILE}:schema_version"
    assert "retrain" in err.value.hint


def test_loading_mismatched_files_fails(scorer, tmp_path) -> None:
    path = scorer.save(tmp_path / "scorer")
    meta = json.loads((path / META_FILE).read_text())
    meta["calibration"]["a"] = 2.0
    (path / META_FILE).write_text(json.dumps(meta))
    with pytest.raises(InvalidArgument) as err:
        load_scorer(path)
    assert err.value.field == f"{META_FILE}:model_version"
    with pytest.raises(NotFound):
        load_scorer(tmp_path / "nothing")


def test_active_scorer_falls_back_to_the_prior_until_a_model_exists(
    scorer, split, tmp_path
) -> None:
    _, _, test, _ = split
    before = active_scorer(tmp_path / "scorer")
    assert before.source is ScorerSource.PRIOR
    assert "no model trained yet" in before.reason
    assert before.scorer.predict_proba(test).shape == (len(test),)
    scorer.save(tmp_path / "scorer")
    after = active_scorer(tmp_path / "scorer")
    assert after.source is ScorerSource.MODEL
    assert after.model_version == scorer.model_version
    np.testing.assert_array_equal(after.scorer.predict_proba(test), scorer.predict_proba(test))


# --- bad input names the column ---


def test_predict_on_no_rows_and_one_row(scorer, split) -> None:
    _, _, test, _ = split
    assert scorer.predict_proba(test.iloc[:0]).shape == (0,)
    np.testing.assert_allclose(scorer.predict_proba(test.iloc[[5]]), scorer.predict_proba(test)[5])
    with pytest.raises(InvalidArgument) as err:
        scorer.predict_proba(test.iloc[:0].drop(columns=["grade"]))
    assert err.value.field == "grade"


def test_missing_feature_column_at_predict_time(scorer, split) -> None:
    _, _, test, _ = split
    with pytest.raises(InvalidArgument) as err:
        scorer.predict_proba(test.drop(columns=["visits"]))
    assert err.value.field == "visits"


def test_wrong_type_and_infinite_values_name_the_column(scorer, split) -> None:
    _, _, test, _ = split
    with pytest.raises(InvalidArgument) as err:
        scorer.predict_proba(test.assign(score="high"))
    assert err.value.field == "score"
    with pytest.raises(InvalidArgument) as err:
        scorer.predict_proba(test.assign(score=np.inf))
    assert err.value.field == "score"


@pytest.mark.parametrize(
    ("target", "hint"),
    [
        (np.array([0, 1, 2, 0, 1, 0] * 10), "got 2 at row 2"),
        (np.array([0.0, 1.0, np.nan, 0.0, 1.0, 0.0] * 10), "only 0 and 1"),
        (np.array(["no", "yes"] * 30), "only 0 and 1"),
        (np.array([0, 1] * 20), "60 rows"),
        (np.zeros(60), "positives"),
    ],
)
def test_bad_target(target: np.ndarray, hint: str) -> None:
    frame, _ = _synthetic(60, seed=1)
    with pytest.raises(InvalidArgument) as err:
        fit_scorer(frame, target, FAST)
    assert err.value.field == "target"
    assert hint in err.value.hint


def test_empty_frame() -> None:
    frame, _ = _synthetic(10, seed=1)
    with pytest.raises(InvalidArgument) as err:
        fit_scorer(frame.iloc[:0], np.array([], dtype=np.int64))
    assert err.value.field == "frame"
    with pytest.raises(InvalidArgument) as err:
        cross_validate(frame.iloc[:0], np.array([], dtype=np.int64))
    assert err.value.field == "frame"


def test_bad_params_name_the_field() -> None:
    with pytest.raises(InvalidArgument) as err:
        ScorerParams(nthread=0)
    assert err.value.field == "nthread"
    with pytest.raises(InvalidArgument) as err:
        ScorerParams(subsample=1.5)
    assert err.value.field == "subsample"


# --- the prior fallback ---


def test_prior_orders_grades_h_a_b_c() -> None:
    frame = pd.DataFrame(
        {
            "grade": ["H", "A", "B", "C"],
            "channel": "WEB",
            "advisor_conversion_rate": 0.07,
        }
    )
    p = PriorScorer().predict_proba(frame)
    assert np.all(np.diff(p) < 0)
    assert np.all((p > 0) & (p < 1))


def test_prior_uses_channel_and_advisor_rate() -> None:
    prior = PriorScorer()
    frame = pd.DataFrame(
        {
            "grade": ["A", "A", "A", "A", "Z"],
            "channel": ["WALK_IN", "DOUYIN", "DOUYIN", "DOUYIN", "MARS"],
            "advisor_conversion_rate": [0.07, 0.07, 0.14, np.nan, np.nan],
        }
    )
    p = prior.predict_proba(frame)
    assert p[0] > p[1]  # walk-ins convert better than short-video leads
    assert p[2] == pytest.approx(2 * p[1])  # an advisor twice the group rate
    assert p[3] == p[1]  # no advisor history: a lift of 1
    assert p[4] == prior.base_rate  # unknown grade and channel
    with pytest.raises(InvalidArgument) as err:
        prior.predict_proba(frame.drop(columns=["channel"]))
    assert err.value.field == "channel"


def test_prior_from_history_smooths_base_rates(demo: TrainingSet) -> None:
    prior = PriorScorer.from_history(demo.frame, demo.target)
    rates = dict(prior.grade_rates)
    assert rates["H"] > rates["A"] > rates["B"] > rates["C"]
    assert prior.base_rate == pytest.approx(demo.target.mean())
    assert roc_auc_score(demo.target, prior.predict_proba(demo.frame)) > 0.68


# --- features of the demo group ---


def test_demo_features_have_lead_and_advisor_columns(group: DemoGroup, demo) -> None:
    leads = group.leads
    closed = leads["converted"].isin(["0", "1"]) & (leads["advisor_id"] != "")
    assert len(demo.frame) == int(closed.sum()) == len(demo.target) == len(demo.ids)
    expected = {"channel", "brand_id", "model", "region_id", "grade", "hour", "weekday"}
    expected |= {f"tag_{t}" for t in TAGS} | {"tag_count", *ADVISOR_FEATURES}
    assert set(demo.frame.columns) == expected
    assert "converted" in demo.dropped and "lead_id" in demo.dropped
    np.testing.assert_array_equal(demo.target, leads.loc[closed, "converted"].astype(int))
    assert demo.frame["hour"].between(0, 23).all()
    assert demo.frame["weekday"].between(0, 6).all()
    assert (demo.frame["advisor_certified"] == 1).all()  # history only went to certified
    rate = demo.frame["advisor_conversion_rate"]
    assert rate.between(0, 1).all() and rate.nunique() > 5
    assert demo.frame["advisor_open_leads"].isna().all()


def test_demo_features_of_candidate_pairs(group: DemoGroup) -> None:
    lead = group.leads.iloc[[0]]
    advisors = group.advisors
    same_store = advisors[advisors["store_id"] == lead["store_id"].iloc[0]]
    pairs = pd.concat([lead] * len(same_store), ignore_index=True)
    pairs["advisor_id"] = same_store["advisor_id"].to_numpy()
    load = {same_store["advisor_id"].iloc[0]: 4}
    frame = demo_lead_features(pairs, advisors, group.stores, advisor_load=load)
    brand = lead["brand_id"].iloc[0]
    certified = same_store["brand_ids"].str.split(";").map(lambda b: brand in b)
    np.testing.assert_array_equal(frame["advisor_certified"], certified.astype(float))
    assert frame["advisor_open_leads"].tolist() == [4.0] + [0.0] * (len(pairs) - 1)
    ratio = 4 / same_store["max_open_leads"].iloc[0]
    assert frame["advisor_load_ratio"].iloc[0] == pytest.approx(ratio)
    tags = lead["tags"].iloc[0].split(";")
    for tag in TAGS:
        assert (frame[f"tag_{tag}"] == int(tag in tags)).all()
    unassigned = demo_lead_features(lead.assign(advisor_id=""), advisors, group.stores)
    assert unassigned[list(ADVISOR_FEATURES)].isna().all(axis=None)


def test_demo_features_reject_unknown_ids(group: DemoGroup) -> None:
    lead = group.leads.iloc[[0]]
    with pytest.raises(InvalidArgument) as err:
        demo_lead_features(lead.assign(advisor_id="A9999"), group.advisors, group.stores)
    assert err.value.field == "leads:advisor_id"
    with pytest.raises(InvalidArgument) as err:
        demo_lead_features(lead.drop(columns=["grade"]), group.advisors, group.stores)
    assert err.value.field == "leads:grade"
    with pytest.raises(InvalidArgument) as err:
        demo_lead_features(lead.assign(created_at="soon"), group.advisors, group.stores)
    assert err.value.field == "leads:created_at"


def test_smoothed_rate_shrinks_towards_the_prior() -> None:
    rate = smoothed_rate([0, 5, 50], [0, 10, 100], prior_rate=0.1, strength=10)
    np.testing.assert_allclose(rate, [0.1, 0.3, 51 / 110])
    with pytest.raises(InvalidArgument):
        smoothed_rate([3], [2], prior_rate=0.1, strength=10)


@pytest.mark.slow
def test_demo_scorer_learns_grade_and_beats_a_coin(demo: TrainingSet) -> None:
    report = cross_validate(demo.frame, demo.target, folds=5, seed=0, params=FAST)
    assert len(report.xgboost.auc) == len(report.logistic.auc) == 5
    assert report.xgboost.mean_auc == pytest.approx(np.mean(report.xgboost.auc))
    assert report.xgboost.mean_auc > 0.66
    assert report.logistic.mean_auc > 0.66
    assert report.xgboost.mean_brier < demo.target.mean() * (1 - demo.target.mean())
    scorer = fit_scorer(demo.frame, demo.target, FAST)
    by_grade = pd.Series(scorer.predict_proba(demo.frame)).groupby(demo.frame["grade"]).mean()
    assert by_grade["H"] > by_grade["A"] > by_grade["B"] > by_grade["C"]


# --- cross-validation ---


def test_cross_validation_report(split) -> None:
    train, y_train, _, _ = split
    params = ScorerParams(n_estimators=40, learning_rate=0.1, calibration_folds=3)
    report = cross_validate(train, y_train, folds=3, seed=1, params=params)
    assert report.folds == 3 and report.rows == len(train)
    assert report.positive_rate == pytest.approx(y_train.mean())
    for scores in (report.xgboost, report.xgboost_uncalibrated, report.logistic):
        assert len(scores.auc) == len(scores.brier) == 3
        assert scores.mean_auc == pytest.approx(np.mean(scores.auc))
        assert scores.mean_brier == pytest.approx(np.mean(scores.brier))
        assert scores.mean_auc > 0.7
    assert len(report.calibration) == 3
    with pytest.raises(InvalidArgument) as err:
        cross_validate(train, y_train, folds=1)
    assert err.value.field == "folds"


# --- X Education (real CRM leads) ---


@pytest.mark.shared_data
@pytest.mark.skipif(
    not (X_EDUCATION / "Leads.csv").is_file(),
    reason=f"X Education leads not found at {X_EDUCATION}; place shared/data beside the repo",
)
def test_x_education_drops_leaking_columns() -> None:
    data = x_education_training_set(X_EDUCATION)
    assert len(data.frame) == 9240
    assert data.target.sum() == 3561
    for column in (*X_EDUCATION_LEAKAGE, *X_EDUCATION_SNAPSHOTS, "Prospect ID", "Converted"):
        assert column not in data.frame.columns
        assert column in data.dropped
    assert data.frame["Do Not Email"].isin([0.0, 1.0]).all()
    kept = x_education_training_set(X_EDUCATION, drop_snapshots=False)
    assert set(X_EDUCATION_SNAPSHOTS) <= set(kept.frame.columns)


@pytest.mark.slow
@pytest.mark.shared_data
@pytest.mark.skipif(
    not (X_EDUCATION / "Leads.csv").is_file(),
    reason=f"X Education leads not found at {X_EDUCATION}; place shared/data beside the repo",
)
def test_x_education_cross_validation_beats_logistic_regression() -> None:
    data = x_education_training_set(X_EDUCATION)
    params = ScorerParams(calibration_folds=3)
    report = cross_validate(data.frame, data.target, folds=5, seed=0, params=params)
    assert report.xgboost.mean_auc > 0.85
    assert report.xgboost.mean_auc >= report.logistic.mean_auc
    assert report.xgboost.mean_brier <= report.logistic.mean_brier
    assert min(report.xgboost.auc) > 0.85


def _level_dip(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Leads whose conversion rises with the advisor's level except for a dip at level 3."""
    rng = np.random.default_rng(seed)
    grade = rng.choice(list("HABC"), n)
    level = rng.integers(1, 6, n).astype(np.float64)
    logit = -1.0 + np.vectorize(_GRADE_LOGIT.get)(grade) + 0.3 * level - 1.5 * (level == 3)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    return pd.DataFrame({"grade": grade.astype(object), "advisor_level": level}), y


def test_scores_never_fall_with_the_advisor_level_unless_unconstrained(tmp_path: Path) -> None:
    frame, y = _level_dip(4000, seed=3)
    grid = pd.DataFrame({"grade": ["B"] * 5, "advisor_level": [1.0, 2.0, 3.0, 4.0, 5.0]})
    constrained = fit_scorer(frame, y, FAST)
    assert FAST.increasing == ("advisor_level", "advisor_conversion_rate")
    p = constrained.predict_proba(grid)
    assert (np.diff(p) >= -1e-12).all(), p
    free = fit_scorer(frame, y, dataclasses.replace(FAST, increasing=()))
    q = free.predict_proba(grid)
    assert q[2] < q[1], q  # the dip the constraint removes
    loaded = load_scorer(constrained.save(tmp_path / "m"))
    assert loaded.params.increasing == FAST.increasing
    np.testing.assert_allclose(loaded.predict_proba(grid), p)


def test_increasing_must_name_numeric_features() -> None:
    frame, y = _level_dip(600, seed=4)
    with pytest.raises(InvalidArgument) as err:
        fit_scorer(frame, y, dataclasses.replace(FAST, increasing=("grade",)))
    assert err.value.field == "increasing" and "categorical" in str(err.value)
    with pytest.raises(InvalidArgument) as err:
        ScorerParams(increasing=["advisor_level"])  # type: ignore[arg-type]
    assert err.value.field == "increasing"


def _level_effect(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Leads whose log-odds rise by 0.25 per advisor level (the demo generator's kind of
    advisor effect: weak next to the grade's)."""
    rng = np.random.default_rng(seed)
    grade = rng.choice(list("HABC"), n)
    level = rng.integers(1, 6, n).astype(np.float64)
    logit = -2.0 + 2.0 * np.vectorize(_GRADE_LOGIT.get)(grade) + 0.25 * (level - 3)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    return pd.DataFrame({"grade": grade.astype(object), "advisor_level": level}), y


def test_the_calibration_lift_restores_an_advisor_effect_the_boosters_shrank(
    tmp_path: Path,
) -> None:
    frame, y = _level_effect(6000, seed=5)
    shrunk = dataclasses.replace(FAST, n_estimators=30, learning_rate=0.03, select_rounds=False)
    lifted = fit_scorer(frame, y, shrunk)
    plain = fit_scorer(frame, y, dataclasses.replace(shrunk, increasing=()))
    assert lifted.calibration.lift_columns == ("advisor_level",)
    assert plain.calibration.lift_columns == () and lifted.calibration.method.value == "platt"
    assert all(c >= 0 for c in lifted.calibration.lift)
    grid = pd.DataFrame({"grade": ["B"] * 5, "advisor_level": [1.0, 2.0, 3.0, 4.0, 5.0]})

    def slope(scorer: LeadScorer) -> float:
        p = scorer.predict_proba(grid)
        return float(np.polyfit(grid["advisor_level"], np.log(p / (1 - p)), 1)[0])

    got, base = slope(lifted), slope(plain)  # the truth is 0.25 per level
    assert base < 0.2 < got and abs(got - 0.25) < abs(base - 0.25), (base, got)
    loaded = load_scorer(lifted.save(tmp_path / "m"))
    assert loaded.calibration == lifted.calibration
    np.testing.assert_allclose(loaded.predict_proba(grid), lifted.predict_proba(grid))
    with_missing = grid.assign(advisor_level=[np.nan, 2.0, 3.0, 4.0, 5.0])
    p = lifted.predict_proba(with_missing)  # a missing level counts as the training mean
    assert np.isfinite(p).all()
