"""The commands file: what each slash command runs and who may run it."""
