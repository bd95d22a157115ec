"""AWS limits an institution file can exceed: found by `validate` and `plan`, before any deploy.

- IAM user names: 64 characters
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html);
- customer managed policy documents: 6,144 characters, white space not counted (same page);
- SES configuration set names: 64 characters
  (https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_CreateConfigurationSet.html);
- Secrets Manager: 50 tags per secret, 127 characters per tag key
  (https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_limits.html);
  progress marks are tags on the SMTP secret: three per address (link, released, phase 3) plus
  the stack's own tag.
"""

from __future__ import annotations

from tutormail.catalog.model import Institution, Platform
from tutormail.catalog.problems import Problem
from tutormail.plan.build import build_plan
from tutormail.plan.smtp_policy import policy_size

IAM_USER_NAME_MAX = 64
MANAGED_POLICY_MAX = 6144
CONFIGURATION_SET_NAME_MAX = 64
SECRET_TAGS_MAX = 50
TAG_KEY_MAX = 127
MARKS_PER_ADDRESS = ("tutormail:link:", "tutormail:released:", "tutormail:phase3:")
STACK_TAGS = 1  # tutormail:institution


def check_limits(institution: Institution, platform: Platform) -> list[Problem]:
    plan = build_plan(institution, platform)
    file = institution.source
    problems = []
    for what, name, limit in (("IAM user name", plan.smtp_user_name, IAM_USER_NAME_MAX),
                              ("SES configuration set name", plan.configuration_set, CONFIGURATION_SET_NAME_MAX)):
        if len(name) > limit:
            problems.append(Problem(file, 1, "slug", f"the {what} {name!r} would have {len(name)} characters; AWS "
                                    f"allows {limit}: choose a slug of at most {len(plan.slug) - len(name) + limit}"))
    size = policy_size(plan)
    if size > MANAGED_POLICY_MAX:
        problems.append(Problem(file, 1, "companies", f"the SMTP user's send policy would have {size} characters; "
                                f"IAM allows {MANAGED_POLICY_MAX}: use fewer distinct addresses or put them under a "
                                "domain of the file's dns"))
    addresses = plan.from_addresses
    tags = len(MARKS_PER_ADDRESS) * len(addresses) + STACK_TAGS
    if tags > SECRET_TAGS_MAX:
        problems.append(Problem(file, 1, "companies", f"{len(addresses)} distinct addresses need {tags} progress tags "
                                f"on the SMTP secret; Secrets Manager allows {SECRET_TAGS_MAX}"))
    longest = max(addresses, key=len, default="")
    key = max(MARKS_PER_ADDRESS, key=len) + longest
    if len(key) > TAG_KEY_MAX:
        problems.append(Problem(file, 1, "companies", f"the progress tag key {key!r} would have {len(key)} characters; "
                                f"Secrets Manager allows {TAG_KEY_MAX}"))
    return problems
