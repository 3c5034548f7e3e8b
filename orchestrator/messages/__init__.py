"""The Discord messages users see, always within Discord's limits."""
