"""The physics of one deployment, unaware of profiles: memory, step times, engines, replicas, the search."""
