"""AWS limits an institution file can exceed: found by `validate` and `plan`, before any deploy.

- IAM user names: 64 characters
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html);
- customer managed policy documents: 6,144 characters, white space not counted, and 10 managed
  policies per user (same page; raisable to 20): the send permissions are split over as many
  policies as they need (tutormail.plan.smtp_policy.send_policies), up to that count;
- SES configuration set names: 64 characters
  (https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_CreateConfigurationSet.html);
- CloudFormation: 200 outputs per template, not raisable ("Outputs: maximum number of outputs that
  you can declare in your template", https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html).
  An institution's stack declares 5 of its own (IdentityNames, SmtpSecretArn, SmtpUserName,
  ConfigurationSetName, DeployedTemplateHash) and one DkimRecords per Route 53 domain identity
  (infra/senders.py: cleanup reads which DKIM CNAMEs the stack wrote), so 195 such domains, the
  platform sub-domain and the sub-domain senders included, fill it (tests/infra/test_stack_outputs.py
  holds the count to the synthesized template);
Progress marks are no longer tags on the SMTP secret (they live in the progress table, whose keys
have no such limits), so Secrets Manager's 50 tags per secret are not an institution's limit.
"""

from __future__ import annotations

from tutormail.catalog.model import Catalog, Institution, Platform
from tutormail.catalog.problems import Problem
from tutormail.plan.build import InstitutionPlan, build_plan
from tutormail.plan.smtp_policy import MANAGED_POLICIES_PER_USER, MANAGED_POLICY_MAX, policy_size, send_policies
from tutormail.vocabulary import IdentityKind, Provider

IAM_USER_NAME_MAX = 64
STACK_OUTPUTS_MAX = 200
STACK_OWN_OUTPUTS = 5
CONFIGURATION_SET_NAME_MAX = 64


def stack_outputs(plan: InstitutionPlan) -> int:
    """How many outputs the institution's stack template declares."""
    return STACK_OWN_OUTPUTS + sum(1 for i in plan.identities if i.kind == IdentityKind.DOMAIN and
                                     i.provider == Provider.ROUTE53)


def check_limits(institution: Institution, platform: Platform) -> list[Problem]:
    plan = build_plan(institution, platform)
    file = institution.source
    problems = []
    for what, name, limit in (("IAM user name", plan.smtp_user_name, IAM_USER_NAME_MAX),
                              ("SES configuration set name", plan.configuration_set, CONFIGURATION_SET_NAME_MAX)):
        if len(name) > limit:
            problems.append(Problem(file, 1, "slug", f"the {what} {name!r} would have {len(name)} characters; AWS "
                                    f"allows {limit}: choose a slug of at most {len(plan.slug) - len(name) + limit}"))
    if (outputs := stack_outputs(plan)) > STACK_OUTPUTS_MAX:
        problems.append(Problem(file, 1, "dns", f"the stack would declare {outputs} outputs, one per Route 53 domain "
                                f"identity ({outputs - STACK_OWN_OUTPUTS}, sub-domain senders included) and "
                                f"{STACK_OWN_OUTPUTS} of its own; CloudFormation allows {STACK_OUTPUTS_MAX} per "
                                "template (not raisable): split the institution, or send from fewer sub-domains"))
    count, size = len(send_policies(plan)), policy_size(plan)
    if count > MANAGED_POLICIES_PER_USER:
        problems.append(Problem(file, 1, "companies", f"the SMTP user's send permissions need {count} managed "
                                f"policies of at most {MANAGED_POLICY_MAX} characters; IAM attaches "
                                f"{MANAGED_POLICIES_PER_USER} to a user by default (quota \"Managed policies per "
                                "user\", raisable to 20): use fewer distinct addresses or put them under a domain "
                                "of the file's dns"))
    elif size > MANAGED_POLICY_MAX:  # one address whose statement alone is too long
        problems.append(Problem(file, 1, "companies", f"the SMTP user's send policy would have {size} characters; "
                                f"IAM allows {MANAGED_POLICY_MAX}: shorten the address"))
    return problems


def catalog_limits(catalog: Catalog) -> list[Problem]:
    """check_limits over every institution of a catalog: a catalog check (tutormail.plan.loader)."""
    return [p for institution in catalog.institutions.values() for p in check_limits(institution, catalog.platform)]
