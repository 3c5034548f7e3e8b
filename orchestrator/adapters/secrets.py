"""Secrets in Lambda: SSM Parameter Store SecureStrings, read through Powertools Parameters."""

from __future__ import annotations

# Cached per instance; a rotated secret is picked up within this many seconds.
SECRET_MAX_AGE_SECONDS = 300


def ssm_secret(name: str) -> str:
    # Imported on first use: a function whose settings need no SSM (the interactions function,
    # whose public key the template resolves at deploy time) does not pay for it on cold start.
    from aws_lambda_powertools.utilities import parameters

    value = parameters.get_parameter(name, decrypt=True, max_age=SECRET_MAX_AGE_SECONDS)
    if not isinstance(value, str):
        raise TypeError("SSM parameter is not a string")
    return value
