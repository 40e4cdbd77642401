"""Train, log and register the demo's model versions with LightGBM under MLflow autolog.

Each version is one MLflow run in its model's experiment. `mlflow.lightgbm.autolog`
logs the LightGBM parameters, a metric point per boosting round for the `train` and
`valid` sets (`train-binary_logloss`, `valid-auc`, `valid-rmse`, ...) and
`feature_importance_split.json` / `feature_importance_gain.json` at the run root. On
top of that the run gets:

- the validation metrics under the names `mlmon.engine` uses (`accuracy`, `roc_auc`,
  `rmse`, ...), so monitoring can compare production against training;
- the training window as the drift reference, `reference/train.parquet`;
- the model itself, registered as the next version of the registered model.

The model is logged by hand rather than by autolog so its pip requirements can be
given: inferring them starts a subprocess and costs seconds per version.
"""

from __future__ import annotations

import io
import logging
from contextlib import redirect_stderr
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mlmon.demo.market import feature_columns

log = logging.getLogger(__name__)

# The first day of every training window. The prices start on 1999-01-04, and the
# feature warm-up moves the first usable row to the end of March 1999.
TRAIN_START = pd.Timestamp("1999-01-01")
REFERENCE_PATH = "reference/train.parquet"


@dataclass(frozen=True)
class VersionSpec:
    """One version: trained on TRAIN_START..train_end, its last year held out to validate."""

    train_end: str
    alias: str

    @property
    def end(self) -> pd.Timestamp:
        return pd.Timestamp(self.train_end)

    @property
    def valid_start(self) -> pd.Timestamp:
        return pd.Timestamp(year=self.end.year, month=1, day=1)


@dataclass(frozen=True)
class ModelSpec:
    """A registered model of the demo: what it predicts and from which features."""

    name: str
    task: str  # "classification" or "regression"
    market: str  # the index whose next day is predicted
    other: str  # the index whose features help
    description: str
    versions: tuple[VersionSpec, ...]

    @property
    def target(self) -> str:
        suffix = "next_up" if self.task == "classification" else "next_return"
        return f"{self.market}_{suffix}"

    @property
    def features(self) -> list[str]:
        return feature_columns(self.market, self.other)

    @property
    def params(self) -> dict[str, object]:
        """LightGBM parameters: small trees and strong regularisation for noisy daily data."""
        common: dict[str, object] = {
            "learning_rate": 0.03,
            "num_leaves": 15,
            "min_data_in_leaf": 40,
            "feature_fraction": 0.8,
            "bagging_fraction": 0.8,
            "bagging_freq": 1,
            "lambda_l2": 1.0,
            "seed": 7,
            "num_threads": 2,
            "verbosity": -1,
        }
        if self.task == "classification":
            return {"objective": "binary", "metric": ["binary_logloss", "auc"], **common}
        return {"objective": "regression", "metric": ["rmse", "l1"], **common}


MODELS: tuple[ModelSpec, ...] = (
    ModelSpec(
        name="spx-direction",
        task="classification",
        market="spx",
        other="ndx",
        description="Direction of the next S&P 500 daily close (1 = up), from lagged returns, "
        "volatility, RSI, MACD, volume and NASDAQ features. Demo model built by mlmon.",
        versions=(VersionSpec("2004-12-31", "champion"), VersionSpec("2006-12-31", "challenger")),
    ),
    ModelSpec(
        name="ndx-return",
        task="regression",
        market="ndx",
        other="spx",
        description="Next-day NASDAQ Composite return (decimal) from lagged returns, volatility, "
        "RSI, MACD, volume and S&P 500 features. Demo model built by mlmon.",
        versions=(VersionSpec("2004-12-31", "champion"),),
    ),
)


@dataclass(frozen=True)
class TrainedVersion:
    """A trained version: its registry version number, source run and LightGBM booster."""

    model: ModelSpec
    spec: VersionSpec
    version: str
    run_id: str
    booster: object  # lightgbm.Booster

    def predict(self, features: pd.DataFrame) -> pd.DataFrame:
        """Return `prediction` (and `score` for classifiers) for rows of features."""
        raw = np.asarray(self.booster.predict(features[self.model.features]))  # type: ignore[attr-defined]
        if self.model.task == "classification":
            return pd.DataFrame(
                {"prediction": (raw >= 0.5).astype("int64"), "score": raw}, index=features.index
            )
        return pd.DataFrame({"prediction": raw}, index=features.index)


def train_version(
    frame: pd.DataFrame,
    model: ModelSpec,
    spec: VersionSpec,
    *,
    experiment_id: str,
    num_boost_round: int,
    scratch: Path,
) -> TrainedVersion:
    """Fit one version in its own run, log its reference data and register it.

    Autologging and the tracking URI must already be set (see `mlmon.demo.store`).
    `scratch` is an empty folder for the reference file before it is logged.
    """
    import lightgbm as lgb
    import mlflow

    window = frame.loc[TRAIN_START : spec.end]
    fit = window.loc[window.index < spec.valid_start]
    valid = window.loc[window.index >= spec.valid_start]
    features, target = model.features, model.target
    years = f"{window.index[0].year}-{window.index[-1].year}"

    with mlflow.start_run(
        experiment_id=experiment_id,
        run_name=f"{model.name} {years}",
        tags={"mlmon.model": model.name, "mlmon.role": "training", "mlmon.demo.window": years},
        description=f"Fitted on {fit.index[0]:%Y-%m-%d}..{fit.index[-1]:%Y-%m-%d}, "
        f"validated on {valid.index[0]:%Y-%m-%d}..{valid.index[-1]:%Y-%m-%d}.",
    ) as run:
        mlflow.log_params(
            {
                "window_start": f"{window.index[0]:%Y-%m-%d}",
                "window_end": f"{window.index[-1]:%Y-%m-%d}",
                "valid_from": f"{valid.index[0]:%Y-%m-%d}",
                "target": target,
                "feature_count": len(features),
            }
        )
        train_set = lgb.Dataset(fit[features], label=fit[target])
        valid_set = lgb.Dataset(valid[features], label=valid[target], reference=train_set)
        booster = lgb.train(
            model.params,
            train_set,
            num_boost_round=num_boost_round,
            valid_sets=[train_set, valid_set],
            valid_names=["train", "valid"],
        )

        trained = TrainedVersion(model, spec, version="", run_id=run.info.run_id, booster=booster)
        _log_validation_metrics(trained, valid)

        reference = scratch / "reference"
        reference.mkdir(parents=True, exist_ok=True)
        window_rows = window[features].assign(actual=window[target])
        window_rows.reset_index().to_parquet(reference / "train.parquet", index=False)
        mlflow.log_artifacts(str(reference), "reference")

        # Registration prints "Registered model ... already exists" for every version
        # after the first; that goes to the log file instead of between progress lines.
        chatter = io.StringIO()
        with redirect_stderr(chatter):
            info = mlflow.lightgbm.log_model(
                booster,
                name="model",
                registered_model_name=model.name,
                pip_requirements=[f"lightgbm=={lgb.__version__}", f"mlflow=={mlflow.__version__}"],
            )
        if chatter.getvalue().strip():
            log.info("registering %s: %s", model.name, chatter.getvalue().strip())
        version = str(info.registered_model_version)
        mlflow.set_tag("mlmon.version", version)

    log.info("trained %s version %s in run %s", model.name, version, run.info.run_id)
    return TrainedVersion(model, spec, version=version, run_id=run.info.run_id, booster=booster)


def _log_validation_metrics(trained: TrainedVersion, valid: pd.DataFrame) -> None:
    """Log the engine's metrics on the validation year, at step 0."""
    import mlflow

    from mlmon.engine.classification import classification_metrics
    from mlmon.engine.regression import regression_metrics

    predicted = trained.predict(valid)
    actual = valid[trained.model.target].to_numpy()
    if trained.model.task == "classification":
        metrics = classification_metrics(predicted["prediction"], actual, predicted["score"])
    else:
        metrics = regression_metrics(predicted["prediction"], actual)
    values = {name: value for name, value in metrics.values.items() if value is not None}
    mlflow.log_metrics({**values, "valid_rows": float(len(valid))}, step=0)
