"""The demo: a local MLflow store built from real market data, for `mlmon demo`.

The modules follow the build in order:

- `market`: daily S&P 500 and NASDAQ features and next-day targets, from the price
  files shipped with the `arch` package (1999-2018, no network);
- `training`: the registered models and versions, trained with LightGBM under
  `mlflow.lightgbm.autolog`, each with its training window logged as `reference/`;
- `batches`: each version's out-of-sample daily predictions, logged as monthly
  Parquet files under `predictions/` of a run tagged `mlmon.role=predictions`;
- `store`: builds the store or reuses a finished one (`build_demo`), with `session`
  setting MLflow's process-wide tracking URI and autolog for the build only;
- `live`: replays the predictions one trading day per tick (`mlmon demo --live`).
"""
