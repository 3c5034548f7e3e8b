"""Secrets in Lambda: SSM Parameter Store SecureStrings, read through Powertools Parameters."""

from __future__ import annotations

from aws_lambda_powertools.utilities import parameters

# Cached per instance; a rotated secret is picked up within this many seconds.
SECRET_MAX_AGE_SECONDS = 300


def ssm_secret(name: str) -> str:
    value = parameters.get_parameter(name, decrypt=True, max_age=SECRET_MAX_AGE_SECONDS)
    if not isinstance(value, str):
        raise TypeError("SSM parameter is not a string")
    return value
