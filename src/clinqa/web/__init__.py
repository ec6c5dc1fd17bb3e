"""The web app and JSON API (`clinqa serve`): server-rendered pages over the same engine as the CLI."""
