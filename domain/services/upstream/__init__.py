"""The pull-through cache of upstream indexes (issue 16): plans, pages, files, settings."""
