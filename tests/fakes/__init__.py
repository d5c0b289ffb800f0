"""In-memory fakes of Orchard's own ports (never mocks of libraries)."""
