"""One module per tab. Each tab widget implements `show_snapshot` from `base.SnapshotView`."""
