"""Third-party Python SignalR clients from PyPI driving our server as extra peers."""
