"""fleetroute."""
