"""Day 2: each institution's sending health and its own pause switch (issue 14).

`names` and `pause` import nothing but boto3 and the standard library: they are also the code of
the platform's pause Lambda (infra/reputation.py packages exactly them).
"""
