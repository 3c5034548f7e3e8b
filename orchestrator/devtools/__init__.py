"""Development stand-ins for the outside APIs (demo, tests, benchmark); never imported by runtime code."""
