"""The Textual application: it renders Snapshots and sends intents back to the poller."""
