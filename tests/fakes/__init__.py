"""Shared fakes of the services the app talks to, at the HTTP layer."""
