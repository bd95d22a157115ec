"""AWS limits an institution file can exceed: found by `validate` and `plan`, before any deploy.

- IAM user names: 64 characters
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html);
- customer managed policy documents: 6,144 characters, white space not counted (same page);
- SES configuration set names: 64 characters
  (https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_CreateConfigurationSet.html);
Progress marks are no longer tags on the SMTP secret (they live in the progress table, whose keys
have no such limits), so Secrets Manager's 50 tags per secret are not an institution's limit.
"""

from __future__ import annotations

from tutormail.catalog.model import Institution, Platform
from tutormail.catalog.problems import Problem
from tutormail.plan.build import build_plan
from tutormail.plan.smtp_policy import policy_size

IAM_USER_NAME_MAX = 64
MANAGED_POLICY_MAX = 6144
CONFIGURATION_SET_NAME_MAX = 64


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
    return problems
