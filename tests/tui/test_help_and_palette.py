"""The help screen and the command palette list the Predictions and Features tab keys."""

from __future__ import annotations

import pytest
from textual.command import CommandPalette
from textual.widgets import OptionList, Static

from mlmon.tui.screens.help import HelpScreen
from mlmon.tui.tabs.features import FeaturesTab
from mlmon.tui.tabs.predictions import PredictionsTab
from tests.predictions.conftest import prediction_store_fixture  # noqa: F401
from tests.tui.helpers import build_app, text_of, wait_for

pytestmark = pytest.mark.asyncio


async def test_help_lists_tab_keys(prediction_store) -> None:
    app = build_app(prediction_store.uri, model_filter=("pred-classifier",))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), "the help screen")
        help_text = text_of(app.screen.query_one(Static), width=76)
        for key in ("v / V", "w / W", "s / S", "t / T", "Home / End"):
            assert key in help_text, f"help should list {key!r}:\n{help_text}"
        assert "Predictions tab" in help_text
        assert "Features tab" in help_text


async def _palette_pick(pilot, app, query: str, title: str) -> None:
    await pilot.press("ctrl+p")
    await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette), "the command palette")
    await pilot.press(*query)
    options = app.screen.query_one(OptionList)

    def prompts() -> list[str]:
        return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]

    await wait_for(pilot, lambda: any(title in prompt for prompt in prompts()), f"{title!r} in the palette")
    options.highlighted = next(i for i, prompt in enumerate(prompts()) if title in prompt)
    await pilot.press("enter")
    await wait_for(pilot, lambda: not isinstance(app.screen, CommandPalette), "the palette to close")


async def test_palette_switches_tab_settings(prediction_store) -> None:
    app = build_app(prediction_store.uri, model_filter=("pred-classifier",))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await wait_for(
            pilot,
            lambda: screen.snapshot and screen.snapshot.predictions and screen.snapshot.predictions.log,
            "prediction log",
        )
        predictions = screen.query_one(PredictionsTab)
        first_window = predictions.window.label
        await _palette_pick(pilot, app, "window", "Predictions: next window")
        await wait_for(pilot, lambda: screen.content.current == "predictions", "the Predictions tab")
        assert predictions.window.label != first_window
        await _palette_pick(pilot, app, "window", "Predictions: previous window")
        assert predictions.window.label == first_window

        first_view = predictions.view_name
        await _palette_pick(pilot, app, "view", "Predictions: next view")
        assert predictions.view_name != first_view

        features = screen.query_one(FeaturesTab)
        await _palette_pick(pilot, app, "importance", "Features: next importance type")
        await wait_for(pilot, lambda: screen.content.current == "features", "the Features tab")
        await wait_for(pilot, lambda: features.ready and features.view.features, "features drawn")
        first_kind = features.kind
        await _palette_pick(pilot, app, "importance", "Features: next importance type")
        assert features.kind != first_kind
