"""Tab keys work straight after switching tabs, while the picker keeps the focus."""

from __future__ import annotations

import pytest

from mlmon.tui.tabs.features import FeaturesTab
from mlmon.tui.tabs.predictions import PredictionsTab
from mlmon.tui.widgets.model_picker import ModelPicker
from tests.predictions.conftest import prediction_store_fixture  # noqa: F401
from tests.tui.helpers import build_app, wait_for

pytestmark = pytest.mark.asyncio


async def test_window_and_type_keys_from_picker(prediction_store) -> None:
    app = build_app(prediction_store.uri, model_filter=("pred-classifier",))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await wait_for(
            pilot,
            lambda: screen.snapshot and screen.snapshot.predictions and screen.snapshot.predictions.log,
            "prediction log",
        )
        picker = screen.query_one(ModelPicker)

        await pilot.press("3")
        predictions = screen.query_one(PredictionsTab)
        await wait_for(pilot, lambda: predictions.ready, "predictions drawn")
        assert picker.has_focus_within
        first_window, first_view = predictions.window.label, predictions.view_name
        await pilot.press("w")
        assert predictions.window.label != first_window
        await pilot.press("W")
        assert predictions.window.label == first_window
        await pilot.press("v")
        assert predictions.view_name != first_view

        await pilot.press("4")
        features = screen.query_one(FeaturesTab)
        await wait_for(pilot, lambda: features.ready and features.view.features, "features drawn")
        assert not features.has_focus_within
        first_kind = features.kind
        await pilot.press("t")
        assert features.kind != first_kind
        # The Predictions window key does nothing on the Features tab.
        window_before = predictions.window.label
        await pilot.press("w")
        assert predictions.window.label == window_before
