"""One IAM user per institution for SMTP, least privilege, with its key kept in Secrets Manager."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Acknowledgment, SecretValue, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from . import logical_ids


class SmtpUser(Construct):
    """The user may only `ses:SendRawEmail`, only on the institution's identities and
    configuration set, and only with a From address of the institution (tutormail.plan.smtp_policy).

    Keys are declared by generation: `generations` holds the newest and, during a rotation, the
    previous one, so Tutor keeps sending with the old key until the next deploy drops it. The
    secret always holds the newest key; its secret part is referenced (Fn::GetAtt), never written.
    """

    def __init__(self, scope: Construct, construct_id: str, *, user_name: str, secret_name: str,
                 region: str, send_policies: Sequence[Sequence[dict]], generations: Sequence[int]) -> None:
        super().__init__(scope, construct_id)
        self.user = iam.User(self, "User", user_name=user_name)
        self.user.node.default_child.override_logical_id(logical_ids.SMTP_USER)
        # Customer managed policies (6,144 characters each) rather than an inline one (2,048), as many
        # as the addresses need (tutormail.plan.smtp_policy.send_policies; limits checks the count
        # against the 10 a user may hold). The first keeps its construct id: no replacement.
        # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
        for number, statements in enumerate(send_policies, start=1):
            iam.ManagedPolicy(self, "SendPolicy" if number == 1 else f"SendPolicy{number}", users=[self.user],
                              description=f"{user_name}: ses:SendRawEmail only as the institution's addresses"
                                          + (f" ({number} of {len(send_policies)})" if len(send_policies) > 1 else ""),
                              statements=[iam.PolicyStatement.from_json(s) for s in statements])
        keys = {}
        for generation in sorted(generations):
            key = iam.AccessKey(self, f"KeyGen{generation}", user=self.user, serial=generation)
            key.node.default_child.override_logical_id(logical_ids.smtp_key(generation))
            keys[generation] = key
        newest = keys[max(keys)]
        self.secret = secretsmanager.Secret(
            self, "Secret", secret_name=secret_name,
            description="SMTP credentials of the institution's SES sender (newest key)",
            secret_object_value={
                "access_key_id": SecretValue.unsafe_plain_text(newest.access_key_id),
                "secret_access_key": newest.secret_access_key,
                "region": SecretValue.unsafe_plain_text(region),
                "key_generation": SecretValue.unsafe_plain_text(str(max(keys))),
            })
        self.secret.node.default_child.override_logical_id(logical_ids.SMTP_SECRET)
        Validations.of(self.secret).acknowledge(Acknowledgment(
            id="AwsSolutions-SMG4",
            reason="An IAM access key cannot be rotated by a Secrets Manager Lambda without breaking "
                   "the SMTP password Tutor holds; rotation is declarative (smtp_key_generation in the "
                   "institution file) and keeps the previous key until Tutor is updated."))
