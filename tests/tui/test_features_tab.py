"""Pilot tests of the Features tab on real LightGBM autolog artifacts in a real mlflow server.

Importance is compared with the trained booster's own `feature_importance`; drift and
correlations with scipy on the reference and the batches as written.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from mlmon.tui.tabs.features import FeaturesTab
from mlmon.tui.widgets.features_panels import CorrelationPanel
from mlmon.tui.widgets.features_view import CURRENT_ROWS
from tests.predictions.conftest import FEATURES, prediction_store_fixture  # noqa: F401
from tests.tui.helpers import build_app, text_of, wait_for

pytestmark = pytest.mark.asyncio


async def open_features(pilot, app) -> FeaturesTab:
    screen = app.screen
    await wait_for(
        pilot,
        lambda: (
            screen.snapshot
            and screen.snapshot.features
            and (screen.snapshot.features.files or screen.snapshot.features.error)
        ),
        "feature files",
    )
    await pilot.press("4")
    tab = screen.query_one(FeaturesTab)
    await wait_for(pilot, lambda: tab.ready and tab.view.features, "features drawn")
    await pilot.press("tab")
    assert tab.ranking.has_focus, "Tab from the picker should reach the feature ranking"
    return tab


def ranking_on_screen(tab: FeaturesTab) -> list[str]:
    return [tab.ranking.get_option_at_index(i).id for i in range(tab.ranking.option_count)]


async def test_importance_types_match_the_booster(prediction_store) -> None:
    booster = prediction_store.booster
    app = build_app(prediction_store.uri, model_filter=("pred-classifier",))
    async with app.run_test(size=(80, 24)) as pilot:
        tab = await open_features(pilot, app)
        assert tab.kind == "gain"
        gain = dict(zip(booster.feature_name(), booster.feature_importance("gain"), strict=True))
        assert ranking_on_screen(tab) == sorted(gain, key=lambda name: -gain[name])
        shown = tab.view.importances[0].values
        assert shown == pytest.approx(gain)

        await pilot.press("t")
        assert tab.kind == "split"
        split = dict(zip(booster.feature_name(), booster.feature_importance("split"), strict=True))
        assert tab.view.importances[1].values == pytest.approx(split)
        assert ranking_on_screen(tab) == sorted(split, key=lambda name: (-split[name], name))
        assert "ranked by split" in text_of(tab.query_one("#features-bar"), width=80)

        await pilot.press("T")
        assert tab.kind == "gain"


async def test_selecting_a_feature_shows_rank_drift_and_correlation(prediction_store) -> None:
    app = build_app(prediction_store.uri, model_filter=("pred-classifier",))
    async with app.run_test(size=(200, 50)) as pilot:
        tab = await open_features(pilot, app)
        await pilot.press("down")
        feature = ranking_on_screen(tab)[1]
        assert tab.feature == feature

        gain = prediction_store.booster.feature_importance("gain")
        names = prediction_store.booster.feature_name()
        order = sorted(names, key=lambda name: -gain[names.index(name)])
        facts = text_of(tab.query_one("#feature-facts"), width=150)
        assert feature in facts
        assert f"{order.index(feature) + 1} of 4" in facts

        # Drift: the reference is the training data; current the newest rows of the log.
        log = app.screen.snapshot.predictions.log.frame
        current = log.tail(CURRENT_ROWS)[feature].to_numpy()
        reference = prediction_store.training[feature].to_numpy()
        drift = tab.view.column_drift(feature)
        ks = stats.ks_2samp(reference, current)
        assert drift.scores["ks"] == pytest.approx(ks.statistic)
        assert drift.scores["ks_p_value"] == pytest.approx(ks.pvalue, rel=1e-6)
        assert drift.scores["wasserstein_normed"] == pytest.approx(
            stats.wasserstein_distance(reference, current) / reference.std()
        )

        known = log[log["actual"].notna()]
        relation = tab.view.relation(feature)
        assert relation.with_actual == pytest.approx(stats.pearsonr(known[feature], known["actual"]).statistic)
        abs_error = (known["prediction"] - known["actual"]).abs()
        assert relation.with_abs_error == pytest.approx(stats.pearsonr(known[feature], abs_error).statistic)
        assert f"{relation.with_actual:.3g}" in facts
        # Drift and correlations cover different rows, and each names its own.
        assert f"newest {len(current)} vs {len(reference)} ref rows" in facts
        assert f"{len(known)} log rows with actual" in facts

        histogram = tab.view.histogram(feature)
        edges = histogram.edges
        np.testing.assert_allclose(histogram.reference, np.histogram(reference, edges)[0] / len(reference))
        np.testing.assert_allclose(histogram.current, np.histogram(current, edges)[0] / len(current))

        # The choice survives a refresh.
        await pilot.press("r")
        polls = app.screen.polls_started
        await wait_for(
            pilot,
            lambda: not app.screen.header.polling and app.screen.polls_started == polls,
            "refresh",
        )
        await pilot.pause()
        assert tab.feature == feature


async def test_correlation_view_matches_numpy(prediction_store) -> None:
    app = build_app(prediction_store.uri, model_filter=("pred-classifier",))
    async with app.run_test(size=(80, 24)) as pilot:
        tab = await open_features(pilot, app)
        await pilot.press("v")
        assert tab.view_name == "correlation"
        panel = tab.query_one(CorrelationPanel)
        assert panel.has_focus
        log = app.screen.snapshot.predictions.log.frame
        matrix = tab.view.correlations(tab.kind_index)
        order = ranking_on_screen(tab)
        assert list(matrix.columns) == order
        expected = np.corrcoef(log[order].to_numpy(dtype=float), rowvar=False)
        np.testing.assert_allclose(matrix.to_numpy(), expected)
        text = text_of(panel, width=80)
        assert f"{expected[0, 1]:+.2f}" in text
        await pilot.press("v")
        assert tab.ranking.has_focus


async def test_correlation_readable_at_80_columns(prediction_store) -> None:
    app = build_app(prediction_store.uri, model_filter=("pred-classifier",))
    async with app.run_test(size=(80, 24)) as pilot:
        tab = await open_features(pilot, app)
        await pilot.press("v")
        panel = tab.query_one(CorrelationPanel)
        await pilot.pause()
        text = text_of(panel, width=panel.content_region.width)
        log = app.screen.snapshot.predictions.log.frame
        order = ranking_on_screen(tab)
        assert f"top {len(order)} by gain, all {len(log)} rows" in " ".join(text.split())
        assert "…" not in text
        expected = np.corrcoef(log[order].to_numpy(dtype=float), rowvar=False)
        for number, name in enumerate(order, start=1):
            row = next(line for line in text.splitlines() if line.split()[:2] == [str(number), name])
            cells = row.split()[2:]
            assert len(cells) == len(order)
            for other, cell in enumerate(cells):
                if other + 1 == number:
                    assert cell == "·"
                else:
                    assert cell == f"{expected[number - 1, other]:+.2f}"


async def test_features_tab_bad_importance_file(prediction_store) -> None:
    app = build_app(prediction_store.uri, model_filter=("pred-broken",))
    async with app.run_test(size=(80, 24)) as pilot:
        tab = await open_features(pilot, app)
        errors = text_of(tab.query_one("#features-errors"), width=200)
        assert errors.startswith("1 file skipped:")
        assert "feature_importance_gain.json" in errors
        assert "not valid JSON" in errors
        assert [item.kind for item in tab.view.importances] == ["split"]
        assert ranking_on_screen(tab)[:3] == ["volume", "momentum", "noise"]
        # The log's other columns are still listed for drift and correlation, unranked.
        assert set(FEATURES) <= set(ranking_on_screen(tab))
        assert tab.view.drift is None
        assert "no reference data" in text_of(tab.query_one("#feature-facts"), width=120)


async def test_features_tab_empty_state(prediction_store) -> None:
    app = build_app(prediction_store.uri, model_filter=("pred-empty",))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await wait_for(pilot, lambda: screen.snapshot and screen.snapshot.features, "features state")
        await pilot.press("4")
        tab = screen.query_one(FeaturesTab)
        await wait_for(pilot, lambda: tab.ready, "features drawn")
        assert tab.has_class("-empty")
        message = text_of(tab.query_one("#features-empty"), width=200)
        assert "pred-empty v1" in message
        assert "reference/" in message

        await pilot.press("3")
        predictions = text_of(screen.query_one("#predictions-empty"), width=200)
        assert "mlmon.role=predictions" in predictions
