"""Policy levers: expert visits, remote diagnosis, the emergency network, payment levers."""
