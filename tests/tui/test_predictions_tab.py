"""Pilot tests of the Predictions tab on prediction logs in a real mlflow server.

Numbers on screen are checked against scikit-learn and numpy computed here from the
batches as written, not from mlmon's own output.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    mean_squared_error,
    precision_score,
    recall_score,
)

from mlmon.sources.predictions import PredictionLog
from mlmon.tui.tabs.base import Selection
from mlmon.tui.tabs.predictions import VIEWS, PredictionsTab
from mlmon.tui.widgets.predictions_charts import Chart
from mlmon.tui.widgets.predictions_table import RecentPredictions
from tests.predictions.conftest import BATCH_ROWS, RETURN_ROWS, prediction_store_fixture  # noqa: F401
from tests.tui.helpers import build_app, text_of, wait_for

pytestmark = pytest.mark.asyncio


def expected_log(store) -> pd.DataFrame:
    """The classifier's batches merged by hand: late actuals replace missing ones by request id."""
    frame = pd.concat(store.batches, ignore_index=True)
    late = store.late_actuals.set_index("request_id")["actual"]
    frame["actual"] = frame["request_id"].map(late).fillna(frame["actual"])
    return frame.sort_values("timestamp", kind="stable").reset_index(drop=True)


async def open_predictions(pilot, app) -> PredictionsTab:
    screen = app.screen
    await wait_for(
        pilot,
        lambda: screen.snapshot and screen.snapshot.predictions and screen.snapshot.predictions.log,
        "prediction log",
    )
    await pilot.press("3")
    tab = screen.query_one(PredictionsTab)
    await wait_for(pilot, lambda: tab.ready, "predictions drawn")
    await pilot.press("tab")
    assert tab.has_focus_within, "Tab from the picker should reach the Predictions tab"
    return tab


async def test_window_switching_matches_sklearn(prediction_store) -> None:
    app = build_app(prediction_store.uri, model_filter=("pred-classifier",))
    expected = expected_log(prediction_store)
    known = expected[expected["actual"].notna()]
    async with app.run_test(size=(80, 24)) as pilot:
        tab = await open_predictions(pilot, app)

        # Default window: the newest 60 rows with actuals, against the 60 before them.
        now, before = known.tail(60), known.iloc[-120:-60]
        metrics = tab.view.metrics
        assert metrics.current.values["accuracy"] == pytest.approx(accuracy_score(now["actual"], now["prediction"]))
        assert metrics.previous.values["accuracy"] == pytest.approx(
            accuracy_score(before["actual"], before["prediction"])
        )
        assert metrics.current.values["precision"] == pytest.approx(precision_score(now["actual"], now["prediction"]))
        assert metrics.current.values["recall"] == pytest.approx(recall_score(now["actual"], now["prediction"]))
        assert metrics.current.values["f1"] == pytest.approx(f1_score(now["actual"], now["prediction"]))
        shown = text_of(tab.metrics_panel, width=56)
        assert f"{accuracy_score(now['actual'], now['prediction']) * 100:.1f}%" in shown
        assert "last 60 rows" in shown

        await pilot.press("w")
        await wait_for(pilot, lambda: tab.ready, "the next window")
        assert tab.window.label == "last 250 rows"
        assert tab.view.metrics.previous is None
        assert tab.view.metrics.current.rows_used == len(known) == 3 * BATCH_ROWS + 25
        assert tab.view.metrics.current.values["accuracy"] == pytest.approx(
            accuracy_score(known["actual"], known["prediction"])
        )

        await pilot.press("w")
        await wait_for(pilot, lambda: tab.ready, "the next window")
        assert tab.window.label == "1 week"
        end = known["timestamp"].max()
        week = known[known["timestamp"] > end - pd.Timedelta(days=7)]
        earlier = known[
            (known["timestamp"] > end - pd.Timedelta(days=14)) & (known["timestamp"] <= end - pd.Timedelta(days=7))
        ]
        assert tab.view.metrics.current.rows_used == len(week) == 14
        assert tab.view.metrics.current.values["accuracy"] == pytest.approx(
            accuracy_score(week["actual"], week["prediction"])
        )
        assert tab.view.metrics.previous.values["accuracy"] == pytest.approx(
            accuracy_score(earlier["actual"], earlier["prediction"])
        )
        labels, counts = tab.view.confusion
        assert labels == [0, 1]
        from sklearn.metrics import confusion_matrix

        np.testing.assert_array_equal(counts, confusion_matrix(week["actual"], week["prediction"], labels=[0, 1]))

        await pilot.press("W", "W")
        await wait_for(pilot, lambda: tab.ready, "the window two back")
        assert tab.window.label == "last 60 rows"
        assert "last 60 rows" in text_of(tab.query_one("#predictions-bar"), width=80)


async def test_views_table_sort_and_follow(prediction_store) -> None:
    app = build_app(prediction_store.uri, model_filter=("pred-classifier",))
    async with app.run_test(size=(80, 24)) as pilot:
        tab = await open_predictions(pilot, app)
        await pilot.press("v")
        assert tab.switcher.current == "predictions-table"
        table = tab.query_one(RecentPredictions)
        assert table.has_focus
        assert table.row_count == 4 * BATCH_ROWS
        assert table.following and table.cursor_row == table.row_count - 1

        # New rows arrive while following: the cursor moves to the new newest row.
        state = app.screen.snapshot.predictions
        frame = state.log.frame
        extra = frame.tail(3).assign(timestamp=frame["timestamp"].max() + pd.to_timedelta([1, 2, 3], unit="D"))
        grown = replace(state, log=PredictionLog(pd.concat([frame, extra], ignore_index=True)))
        tab.show_snapshot(replace(app.screen.snapshot, predictions=grown), app.screen.selection)
        await wait_for(pilot, lambda: tab.ready, "the grown log")
        assert table.cursor_row == table.row_count - 1 == 4 * BATCH_ROWS + 2

        # Scrolled away: a refresh keeps the cursor on the same prediction.
        await pilot.press("up", "up", "up", "up", "up")
        chosen = table.get_row_at(table.cursor_row)[0].plain
        more = replace(
            grown,
            log=PredictionLog(
                pd.concat(
                    [
                        grown.log.frame,
                        extra.assign(timestamp=extra["timestamp"] + pd.Timedelta(days=5)),
                    ],
                    ignore_index=True,
                )
            ),
        )
        tab.show_snapshot(replace(app.screen.snapshot, predictions=more), app.screen.selection)
        await wait_for(pilot, lambda: tab.ready, "the log grown again")
        assert not table.following
        assert table.get_row_at(table.cursor_row)[0].plain == chosen

        await pilot.press("s")
        assert table.sort_column == "prediction"
        column = [table.get_row_at(i)[1].plain for i in range(table.row_count)]
        assert column == sorted(column, key=float)
        await pilot.press("S")
        column = [table.get_row_at(i)[1].plain for i in range(table.row_count)]
        assert column == sorted(column, key=float, reverse=True)

        for expected in (
            "predictions-errors-view",
            "predictions-task",
            "predictions-trend",
            "predictions-overview",
        ):
            await pilot.press("v")
            assert tab.switcher.current == expected
            assert tab.has_focus_within, "keys must keep working after leaving the table"


async def test_predictions_tab_bad_batch(prediction_store) -> None:
    app = build_app(prediction_store.uri, model_filter=("pred-broken",))
    async with app.run_test(size=(80, 24)) as pilot:
        tab = await open_predictions(pilot, app)
        static = tab.query_one("#predictions-errors")
        errors = text_of(static, width=static.content_region.width)
        assert errors.startswith("3 files skipped:")
        # 80×24 leaves six lines: the first file in full, then a count of the rest.
        assert "b-no-prediction.csv: missing column 'prediction'" in " ".join(errors.split())
        assert errors.rstrip().endswith("… and 2 more (all are in the log file)")
        assert len(errors.rstrip().splitlines()) <= static.styles.max_height.value
        assert static.display
        assert not tab.has_class("-empty")
        assert tab.view.metrics.current.rows == 40

        # Another version selected: its log is still being read, so this one must not show.
        tab.show_snapshot(app.screen.snapshot, Selection(model_name="pred-broken", version="7"))
        await pilot.pause()
        assert tab.has_class("-empty")
        waiting = text_of(tab.query_one("#predictions-empty"), width=200)
        assert "reading the prediction log of pred-broken v7" in waiting


async def test_bad_batches_listed_when_tall(prediction_store) -> None:
    app = build_app(prediction_store.uri, model_filter=("pred-broken",))
    async with app.run_test(size=(200, 50)) as pilot:
        tab = await open_predictions(pilot, app)
        static = tab.query_one("#predictions-errors")
        errors = text_of(static, width=static.content_region.width)
        assert errors.startswith("3 files skipped:")
        for problem in (
            "b-no-prediction.csv: missing column 'prediction'",
            "c-latin1.csv: c-latin1.csv is not UTF-8 text",
            "d-empty.json: d-empty.json has no rows.",
        ):
            assert problem in " ".join(errors.split())
        assert "more" not in errors
        # Every line of the list is inside the widget's visible height.
        assert len(errors.rstrip().splitlines()) <= static.size.height


async def test_returns_show_trading_extras_and_rising_rmse(prediction_store) -> None:
    app = build_app(prediction_store.uri, model_filter=("pred-returns",))
    frame = prediction_store.returns
    async with app.run_test(size=(200, 50)) as pilot:
        tab = await open_predictions(pilot, app)
        view = tab.view
        assert (view.task, view.trading) == ("regression", True)

        now = frame.tail(60)
        assert view.metrics.current.values["rmse"] == pytest.approx(
            math.sqrt(mean_squared_error(now["actual"], now["prediction"]))
        )
        returns = np.sign(now["prediction"]) * now["actual"]
        trading = view.metrics.trading.values
        assert trading["sharpe"] == pytest.approx(returns.mean() / returns.std(ddof=1) * math.sqrt(252))
        assert trading["total_return"] == pytest.approx(np.prod(1 + returns) - 1)
        wealth = np.concatenate([[1.0], np.cumprod(1 + returns)])
        assert trading["max_drawdown"] == pytest.approx((wealth / np.maximum.accumulate(wealth) - 1).min())
        assert trading["win_rate"] == pytest.approx((returns > 0).sum() / (returns != 0).sum())
        assert "sharpe" in text_of(tab.metrics_panel, width=120)

        # The trend: rmse over consecutive 60-row windows cut from the newest row back.
        assert view.trend_rows == 60
        expected = [
            math.sqrt(mean_squared_error(chunk["actual"], chunk["prediction"]))
            for chunk in (frame.iloc[start : start + 60] for start in range(RETURN_ROWS % 60, RETURN_ROWS, 60))
        ]
        np.testing.assert_allclose(view.trend["value"], expected)
        assert expected[-1] > 2 * expected[0]
        assert tab.query_one("#predictions-trend-small").display

        curve = view.equity_curve()
        np.testing.assert_allclose(curve["wealth"], np.cumprod(1 + returns))


async def test_table_sort_starts_at_first_row(prediction_store) -> None:
    app = build_app(prediction_store.uri, model_filter=("pred-classifier",))
    async with app.run_test(size=(80, 24)) as pilot:
        tab = await open_predictions(pilot, app)
        await pilot.press("v")
        table = tab.query_one(RecentPredictions)

        # A log longer than the table: copies of it, each shifted a year later.
        state = app.screen.snapshot.predictions
        frame = state.log.frame
        copies = [frame.assign(timestamp=frame["timestamp"] + pd.Timedelta(days=365 * i)) for i in range(4)]
        long_frame = pd.concat(copies, ignore_index=True)
        long_state = replace(state, log=PredictionLog(long_frame))
        tab.show_snapshot(replace(app.screen.snapshot, predictions=long_state), app.screen.selection)
        await wait_for(pilot, lambda: tab.ready, "the long log")
        assert table.row_count == 500
        assert str(table.border_title) == f"newest 500 of {len(long_frame)} rows"
        assert table.cursor_row == 499
        await wait_for(pilot, lambda: table.scroll_y > 0, "the table to follow its newest row")

        await pilot.press("s")
        await pilot.pause()
        assert table.cursor_row == 0
        assert table.scroll_y == 0
        header = table.render_line(0).text
        assert "prediction ▲" in header
        newest = long_frame.sort_values("timestamp").tail(500)
        assert float(table.get_row_at(0)[1].plain) == pytest.approx(newest["prediction"].min(), rel=1e-3)

        await pilot.press("end")
        assert table.cursor_row == 499
        await pilot.press("S")
        assert table.cursor_row == 0
        assert float(table.get_row_at(0)[1].plain) == pytest.approx(newest["prediction"].max(), rel=1e-3)

        await pilot.press("end", "home")
        assert table.cursor_row == 0


@pytest.mark.parametrize("model", ["pred-classifier", "pred-returns"])
async def test_chart_titles_fit_80_columns(prediction_store, model) -> None:
    app = build_app(prediction_store.uri, model_filter=(model,))
    async with app.run_test(size=(80, 24)) as pilot:
        tab = await open_predictions(pilot, app)
        checked = []
        for _ in VIEWS:
            await pilot.press("v")
            await pilot.pause()
            current = tab.query_one(f"#{tab.switcher.current}")
            charts = [current] if isinstance(current, Chart) else list(current.query(Chart))
            for chart in charts:
                if chart.has_data and chart.display:
                    # The room `render` gives a title before it cuts out the middle.
                    room = max(chart.size.width - 10, 12)
                    assert len(chart.shown_title) <= room, f"{chart.id}: {chart.shown_title!r} over {room} cells"
                    checked.append(chart.id)
        assert "predictions-time" in checked
        assert "predictions-scatter" in checked
