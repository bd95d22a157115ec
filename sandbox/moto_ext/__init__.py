"""Where moto lacks what our stacks and scripts use, and only there.

Written for one moto version (checked at install): moto's CloudFormation skips AWS::SES::* and
AWS::SecretsManager::Secret, and its SES marks every identity verified at once without DKIM
tokens. The extensions give CloudFormation those types and SES its lifecycle:
- domain identities get three DKIM tokens and stay PENDING until their CNAMEs resolve in the
  sandbox DNS, FAILED after the DKIM window of sandbox time;
- address identities stay PENDING until the link SES "mails" (a file in the outbox) is opened,
  and the link expires after its validity of sandbox time;
- records that stacks create in Route 53 are also written to the sandbox DNS;
- a stack update keeps parameters left at their default (a second `cdk deploy`), and does not
  update a resource whose declaration changed only in its Metadata;
- a resource that fails (an SES identity that already exists) rolls the stack back as
  CloudFormation does, keeping what DeletionPolicy keeps (cfn_rollback.py);
- SES v2 GetAccount answers from the account's state (SES sandbox or production access, sending,
  enforcement, quota), which the SMTP stand-in enforces;
- SES receiving (issue 25): CloudFormation creates receipt rule sets and rules, and a rule's S3 and
  Lambda actions are tried as SES tries them when it is created (ses_receipt.py);
- on a test's request, stack operations move the sandbox clock and a stack's next update fails
  (cfn_time.py).
The CDK CLI deploys to the sandbox with `--method direct`: moto's change sets do not survive a
second deploy of the same stack.
"""

from __future__ import annotations

import moto

MOTO_VERSION = "5.2.5"


def install() -> None:
    if moto.__version__ != MOTO_VERSION:
        raise RuntimeError(f"sandbox.moto_ext was written for moto {MOTO_VERSION}, found {moto.__version__}: "
                           "re-check every extension against the new version before changing the pin")
    # Imported for their effect: moto builds its CloudFormation type map from the direct
    # subclasses of CloudFormationModel the first time a stack is parsed.
    from . import cfn_fixes, cfn_models, cfn_rollback, cfn_time, ses_account, ses_lifecycle, ses_receipt
    from . import reputation as reputation_ext  # issue 14: sending switch, CloudWatch alarms

    ses_lifecycle.patch_backends()
    cfn_models.patch_route53()
    cfn_models.patch_bucket_policy_check()
    cfn_fixes.patch_update_parameters()
    cfn_fixes.patch_metadata_only_changes()
    ses_account.patch_get_account(ses_lifecycle.CLOCK.now)
    cfn_rollback.patch_create_and_delete()
    reputation_ext.patch()
    cfn_time.patch()
    ses_receipt.patch_permission_checks()
