"""IAM for every signed request to the emulator, decided by the kept evaluator (evaluator.mjs).

moto authenticates the caller (signature, access key or assumed-role session) and finds its
policies; its own decision, "very basic" by its docs, is replaced here by @cloud-copilot/iam-simulate
given the caller's identity policies (inline and managed, user, group and role), the request's
resource ARN and, for sts:AssumeRole, the role's trust policy. How AWS decides:
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
A refusal answers AccessDenied with AWS's message ("User: ARN is not authorized to perform: ACTION
on resource: ARN because no identity-based policy allows the ACTION action").
"""

from __future__ import annotations

import json
import re
import threading
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse
from xml.etree import ElementTree

from moto import settings
from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.exceptions import AccessDeniedError, JsonRESTError
from moto.iam import access_control
from moto.iam.exceptions import NotFoundException
from moto.iam.models import Policy
from moto.utilities.utils import get_partition

from ..config import SandboxConfig
from ..moto_ext.ses_lifecycle import CLOCK
from . import web_identity
from .evaluator import ALLOWED, EVALUATOR

# S3 operations moto names by their API name where IAM has another action.
S3_ACTIONS = {"s3:HeadBucket": "s3:ListBucket", "s3:HeadObject": "s3:GetObject"}
# Services moto names by their endpoint prefix where IAM's service prefix differs.
SERVICE_PREFIXES = {"monitoring": "cloudwatch"}


def iam_action(moto_action: str) -> str:
    """The action as IAM spells it (https://docs.aws.amazon.com/service-authorization/latest/reference/)."""
    service, _, name = moto_action.partition(":")
    return S3_ACTIONS.get(moto_action, f"{SERVICE_PREFIXES.get(service, service)}:{name}")
# Every decision, for the tests (which principal called what, and what the evaluator said).
DECISIONS: list[dict[str, str]] = []
_decisions_lock = threading.Lock()


class AccessDenied(AccessDeniedError):
    def __init__(self, message: str):
        super(AccessDeniedError, self).__init__("AccessDenied", message)


class AccessDeniedRestXml(AccessDenied):
    """Route 53 (REST-XML) answers <ErrorResponse><Error>, without the query APIs' <Errors>."""

    def __init__(self, message: str):
        super().__init__(message)
        from xmltodict import unparse

        error = {"Type": "Sender", "Code": "AccessDenied", "Message": message}
        self.description = unparse({"ErrorResponse": {"Error": error}}, full_document=True)


class AccessDeniedJson(JsonRESTError):
    code = 403

    def __init__(self, message: str):
        super().__init__("AccessDeniedException", message)


def policy_document(policy: Any) -> dict[str, Any]:
    if isinstance(policy, Policy):
        policy = next(version for version in policy.versions if version.is_default).document
    elif isinstance(policy, dict) and "policy_document" in policy:  # a user's or group's inline policy
        policy = policy["policy_document"]
    document = json.loads(unquote(policy)) if isinstance(policy, str) else policy
    if isinstance(document.get("Statement"), list):
        # moto keeps CloudFormation's AWS::NoValue (the bootstrap template's Fn::If) as null
        # statements, where IAM stores none.
        document = {**document, "Statement": [s for s in document["Statement"] if s is not None]}
    return document


def _params(request: access_control.IAMRequestBase) -> dict[str, Any]:
    """The request's parameters, whatever the protocol: query string, form, JSON body."""
    params: dict[str, Any] = {}
    query = urlparse(request._path).query
    for key, values in {**parse_qs(query), **(request._data if isinstance(request._data, dict) else {})}.items():
        params[key] = values[0] if isinstance(values, list) and len(values) == 1 else values
    # A body may be binary (an S3 PutObject of a zipped Lambda asset): only a JSON one holds parameters.
    body = request._body.encode() if isinstance(request._body, str) else (request._body or b"")
    if body.startswith(b"{"):
        try:
            params.update(json.loads(body))
        except ValueError:  # UnicodeDecodeError included
            pass
    return params


def _secret_arn(config: SandboxConfig, secret_id: str) -> str:
    if secret_id.startswith("arn:"):
        return secret_id
    from moto.secretsmanager.models import secretsmanager_backends

    secret = secretsmanager_backends[config.account][config.region].secrets.get(secret_id)
    if secret is not None:
        return secret.arn
    # Not created yet: AWS adds six random characters to a new secret's ARN.
    return f"arn:{config.partition}:secretsmanager:{config.region}:{config.account}:secret:{secret_id}-XXXXXX"


def _stack_arn(config: SandboxConfig, name: str) -> str:
    if name.startswith("arn:"):
        return name
    from moto.cloudformation.models import cloudformation_backends

    for stack in cloudformation_backends[config.account][config.region].stacks.values():
        if stack.name == name and stack.status != "DELETE_COMPLETE":
            return stack.stack_id
    return f"arn:{config.partition}:cloudformation:{config.region}:{config.account}:stack/{name}/new"


SES_PATHS = (  # SES v2 (REST): the path names the resource
    (re.compile(r"^/v2/email/identities/([^/?]+)"), "identity/{0}"),
    (re.compile(r"^/v2/email/configuration-sets/([^/?]+)"), "configuration-set/{0}"),
)


def _ses_resource(config: SandboxConfig, path: str, params: dict[str, Any]) -> str:
    arn = f"arn:{config.partition}:ses:{config.region}:{config.account}:"
    for pattern, resource in SES_PATHS:
        match = pattern.match(path)
        if match:
            return arn + resource.format(unquote(match.group(1)))
    address = params.get("EmailAddress") or params.get("Identity") or params.get("Domain")
    return arn + f"identity/{address}" if isinstance(address, str) else "*"


def _dynamodb_tables(config: SandboxConfig, params: dict[str, Any]) -> list[str]:
    """A request's tables: TableName, or every table of a batch's RequestItems (each is authorised).
    https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html"""
    names = [params["TableName"]] if isinstance(params.get("TableName"), str) else sorted(
        params.get("RequestItems") or {})
    return [name if name.startswith("arn:") else
            f"arn:{config.partition}:dynamodb:{config.region}:{config.account}:table/{name}" for name in names]


def _alarms(config: SandboxConfig, params: dict[str, Any]) -> list[str]:
    """DescribeAlarms' resource type is `alarm` (required): each alarm named is authorised; a call
    naming none (a prefix, or every alarm) is checked against `*`, which an alarm-scoped grant does
    not match. https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html"""
    names = params.get("AlarmNames")
    if not isinstance(names, list):  # the query protocol's AlarmNames.member.N
        names = [v for k, v in sorted(params.items(), key=lambda kv: kv[0]) if k.startswith("AlarmNames.member.")]
    return [f"arn:{config.partition}:cloudwatch:{config.region}:{config.account}:alarm:{name}"
            for name in names if isinstance(name, str)]


def resources_of(config: SandboxConfig, action: str, path: str, params: dict[str, Any]) -> list[str]:
    """The ARNs IAM checks a request against (a batch names several)."""
    if action.startswith("dynamodb:"):
        return _dynamodb_tables(config, params) or ["*"]
    if action == "cloudwatch:DescribeAlarms":
        return _alarms(config, params) or ["*"]
    return [resource_of(config, action, path, params)]


def _log_resource(config: SandboxConfig, action: str, params: dict[str, Any]) -> str:
    """A log stream's actions are checked against its own ARN; a log group's against the group's ARN
    ending in `:*`, the form IAM policies take for every action but tagging (which names the group by
    resourceArn, not logGroupName), so a grant on the bare group ARN is refused as in AWS.
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/iam-access-control-overview-cwl.html
    https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchlogs.html"""
    group = f"arn:{config.partition}:logs:{config.region}:{config.account}:log-group:{params['logGroupName']}"
    if action in ("logs:PutLogEvents", "logs:GetLogEvents") and isinstance(params.get("logStreamName"), str):
        return f"{group}:log-stream:{params['logStreamName']}"
    return f"{group}:*"


def resource_of(config: SandboxConfig, action: str, path: str, params: dict[str, Any]) -> str:
    """The ARN IAM checks a request against; `*` for actions without a resource (List*, Get*Account)."""
    service = action.split(":", 1)[0]
    path = urlparse(path).path
    if service == "secretsmanager" and isinstance(params.get("SecretId"), str):
        return _secret_arn(config, params["SecretId"])
    if service == "secretsmanager" and action == "secretsmanager:CreateSecret":
        return _secret_arn(config, params.get("Name", ""))
    if service == "ses":
        return _ses_resource(config, path, params)
    if service == "route53":
        match = re.match(r"^/2013-04-01/(hostedzone|change|hostedzonelimit)/([^/?]+)", path)
        # GetHostedZoneLimit (`/hostedzonelimit/{Id}/{Type}`) takes the `hostedzone` resource type.
        kind = "hostedzone" if match and match.group(1) == "hostedzonelimit" else match and match.group(1)
        return f"arn:{config.partition}:route53:::{kind}/{match.group(2)}" if match else "*"
    if action in ("sts:AssumeRole", "sts:TagSession"):
        return params.get("RoleArn", "*")
    if service == "cloudformation" and isinstance(params.get("StackName"), str):
        return _stack_arn(config, params["StackName"])
    if service == "logs" and isinstance(params.get("logGroupName"), str):
        return _log_resource(config, action, params)
    if service == "sqs" and isinstance(params.get("QueueUrl") or params.get("QueueName"), str):
        # A queue's ARN from its URL (`.../<account>/<name>`) or, for GetQueueUrl and CreateQueue, its
        # name: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsqs.html
        name = (params.get("QueueUrl") or "").rstrip("/").rsplit("/", 1)[-1] or params["QueueName"]
        return f"arn:{config.partition}:sqs:{config.region}:{config.account}:{name}"
    if service == "ssm" and isinstance(params.get("Name"), str):
        name = params["Name"].lstrip("/")
        return f"arn:{config.partition}:ssm:{config.region}:{config.account}:parameter/{name}"
    if service == "iam":
        iam = f"arn:{config.partition}:iam::{config.account}:"
        for key, kind in (("UserName", "user"), ("RoleName", "role"), ("GroupName", "group")):
            if isinstance(params.get(key), str):
                return iam + f"{kind}/{params[key]}"
        if isinstance(params.get("PolicyArn"), str):
            return params["PolicyArn"]
    return "*"


def _trust_policy(request: access_control.IAMRequestBase, action: str, resource: str) -> dict[str, Any] | None:
    if action != "sts:AssumeRole":
        return None
    try:
        role = request.backend.get_role_by_arn(resource)
    except NotFoundException:  # no such role: the identity policy alone decides, as AWS refuses
        return None
    return policy_document(role.assume_role_policy_document)


def _global_context(config: SandboxConfig, request: access_control.IAMRequestBase) -> dict[str, str]:
    """The global condition keys AWS sets on every request, which the evaluator leaves to its caller
    (the CDK bootstrap roles' policies test aws:ResourceAccount). Every resource is in the one account.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html"""
    principal = request._access_key.arn
    session = re.match(r"arn:([^:]+):sts::(\d+):assumed-role/([^/]+)/", principal)
    if session:  # for a role session, aws:PrincipalArn is the role's ARN
        principal = f"arn:{session.group(1)}:iam::{session.group(2)}:role/{session.group(3)}"
    return {"aws:ResourceAccount": config.account, "aws:PrincipalAccount": config.account,
            "aws:PrincipalArn": principal, "aws:RequestedRegion": request._region}


def _normalized_name(name: str) -> str:
    """As Route 53 normalizes a record name for its condition key: lower case, no trailing dot, any
    character but a-z, 0-9, `-`, `_` and `.` as a backslash and three octal digits."""
    return "".join(c if re.fullmatch(r"[a-z0-9_.-]", c) else f"\\{ord(c):03o}" for c in name.lower().rstrip("."))


def _request_context(action: str, request: access_control.IAMRequestBase) -> dict[str, Any]:
    """The condition keys a request sets about itself. Route 53 sets three on ChangeResourceRecordSets,
    from the change batch: its actions, record types and normalized record names
    (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/specifying-rrset-conditions.html)."""
    if action == "s3:ListBucket":  # S3 sets s3:prefix from the request's prefix parameter (issue 25 hook)
        # https://docs.aws.amazon.com/AmazonS3/latest/userguide/amazon-s3-policy-keys.html
        prefix = parse_qs(urlparse(request._path).query).get("prefix")
        return {"s3:prefix": prefix[0]} if prefix else {}
    if action != "route53:ChangeResourceRecordSets":
        return {}
    body = request._body.decode() if isinstance(request._body, bytes) else (request._body or "")
    # The caller's own XML on loopback, parsed by the sandbox only.
    root = ElementTree.fromstring(body)  # noqa: S314
    found: dict[str, set[str]] = {"Action": set(), "Type": set(), "Name": set()}
    for element in root.iter():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag in found and element.text:
            found[tag].add(_normalized_name(element.text) if tag == "Name" else element.text.strip())
    return {"route53:ChangeResourceRecordSetsActions": sorted(found["Action"]),
            "route53:ChangeResourceRecordSetsRecordTypes": sorted(found["Type"]),
            "route53:ChangeResourceRecordSetsNormalizedRecordNames": sorted(found["Name"])}


def _resource_context(resource: str) -> dict[str, str]:
    """aws:ResourceTag/<key> of the SES identity a request acts on, from its tags: the condition key
    of SES v2's `identity` resource type (e.g. DeleteEmailIdentity,
    https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsimpleemailservicev2.html;
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-resourcetag).
    Other resource types' tags are not set yet (no policy of the product tests them)."""
    from ..moto_ext.ses_lifecycle import find_identity  # the SES extension is installed after IAM

    match = re.match(r"arn:[^:]+:ses:[^:]*:\d+:identity/(.+)$", resource)
    identity = find_identity(match.group(1)) if match else None
    return {f"aws:ResourceTag/{key}": value for key, value in identity.resource_tags().items()} if identity else {}


def _denial(principal: str, action: str, resource: str, answer: dict[str, Any]) -> str:
    decision = answer.get("decision")
    why = {"ExplicitlyDenied": "with an explicit deny in an identity-based policy",
           "ImplicitlyDenied": f"because no identity-based policy allows the {action} action"}.get(
        decision, f"because the sandbox's IAM evaluator refused the request: {json.dumps(answer.get('errors'))}")
    return f"User: {principal} is not authorized to perform: {action} on resource: {resource} {why}"


def _is_json(request: access_control.IAMRequestBase) -> bool:
    headers = {key.lower(): value for key, value in request._headers.items()}
    return "x-amz-target" in headers or urlparse(request._path).path.startswith("/v2/")


def _session_expired(request: access_control.IAMRequestBase) -> bool:
    """A role session past its Expiration on the sandbox clock (every call refuses it, even
    GetCallerIdentity)."""
    if not isinstance(request._access_key, access_control.AssumedRoleAccessKey):
        return False
    from moto.sts.models import sts_backends

    session = sts_backends[request.account_id][get_partition(request._region)].get_assumed_role_from_access_key(
        request._access_key._access_key_id)
    return session is not None and web_identity.sandbox_now(CLOCK) >= session.expiration


def check_action_permitted(self: access_control.IAMRequestBase, resource: str) -> None:
    config = SandboxConfig.from_env()
    action = iam_action(self._action)
    if _session_expired(self):
        message = "The security token included in the request is expired"
        if _is_json(self):
            raise web_identity.JsonError("ExpiredTokenException", message)
        raise web_identity.StsError("ExpiredToken", message)
    # "No permissions are required to perform this operation", even under an explicit deny:
    # https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
    if action == "sts:GetCallerIdentity":
        return
    params = _params(self)
    if action == "sts:AssumeRole":
        web_identity.check_duration(isinstance(self._access_key, access_control.AssumedRoleAccessKey), params)
    resources = [resource] if resource != "*" and resource.startswith("arn:") else resources_of(
        config, action, self._path, params)
    checks = [(action, r) for r in resources]
    if action == "cloudformation:DescribeStacks" and not params.get("StackName"):
        # Every stack: "This requires ListStacks and DescribeStacks permissions".
        # https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStacks.html
        checks.append(("cloudformation:ListStacks", "*"))
    for checked_action, checked_resource in checks:
        _authorise(self, config, checked_action, checked_resource)


def _authorise(self: access_control.IAMRequestBase, config: SandboxConfig, action: str, resource: str) -> None:
    policies = [policy_document(policy) for policy in self._access_key.collect_policies()]
    answer = EVALUATOR.decide(action=action, principal=self._access_key.arn, resource=resource,
                              account=config.account, policies=policies,
                              context={**_global_context(config, self), **_request_context(action, self),
                                       **_resource_context(resource)},
                              resource_policy=_trust_policy(self, action, resource))
    decision = answer.get("decision", "Error")
    with _decisions_lock:
        DECISIONS.append({"principal": self._access_key.arn, "action": action, "resource": resource,
                          "decision": decision, "errors": json.dumps(answer["errors"]) if "errors" in answer else ""})
    if decision == ALLOWED:
        return
    message = _denial(self._access_key.arn, action, resource, answer)
    if _is_json(self):
        raise AccessDeniedJson(message)
    if action.startswith("route53:"):
        raise AccessDeniedRestXml(message)
    raise AccessDenied(message)


_moto_aws_request = access_control.IAMRequestBase._create_aws_request


def _create_aws_request(self: access_control.IAMRequestBase):
    # moto re-signs, as the body, the parsed query (or the headers, when there is no query) of a
    # request that had no body: every GET (SES v2 GetEmailIdentity) would fail its signature check.
    request = _moto_aws_request(self)
    if not self._body and self._method in ("GET", "HEAD", "DELETE"):
        request.data = b""
    return request


def _record(principal: str, action: str, resource: str, decision: str, errors: str = "") -> None:
    with _decisions_lock:
        DECISIONS.append({"principal": principal, "action": action, "resource": resource, "decision": decision,
                          "errors": errors})


def _decide_web_identity(config: SandboxConfig, principal: str, role_arn: str, trust: Any,
                         context: dict[str, str]) -> str:
    answer = EVALUATOR.decide(action="sts:AssumeRoleWithWebIdentity", principal=principal, resource=role_arn,
                              account=config.account, policies=[], context=context,
                              resource_policy=policy_document(trust) if trust else None)
    decision = answer.get("decision", "Error")
    _record(principal, "sts:AssumeRoleWithWebIdentity", role_arn, decision, json.dumps(answer.get("errors", "")))
    return decision


_moto_authenticate = ActionAuthenticatorMixin._authenticate_and_authorize_action


def _authenticate(self, iam_request_cls: type, resource: str = "*") -> None:
    """AssumeRoleWithWebIdentity is not signed: the token and the role's trust decide (web_identity.py)."""
    if self._get_action() == "AssumeRoleWithWebIdentity" and "Authorization" not in self.headers:
        from moto.iam.models import iam_backends

        config = SandboxConfig.from_env()
        params = {key: self._get_param(key) for key in ("WebIdentityToken", "RoleArn", "DurationSeconds")}
        web_identity.authorise(params, iam_backends[config.account][config.partition], CLOCK.now(),
                               lambda *args: _decide_web_identity(config, *args))
        return
    _moto_authenticate(self, iam_request_cls, resource)


def _sessions_on_the_sandbox_clock() -> None:
    from moto.sts.models import STSBackend

    assume_role = STSBackend.assume_role

    def assume(self, **kwargs):
        session = assume_role(self, **kwargs)
        session.expiration = web_identity.sandbox_now(CLOCK) + timedelta(seconds=int(kwargs["duration"]))
        return session
    STSBackend.assume_role = assume


def install() -> None:
    """Every request from the first one is authenticated (signature) and authorised (policies)."""
    # A tightening, not a loosening: moto's default is float("inf"), i.e. no request is ever checked
    # (moto/settings.py); 0 makes moto authenticate the very first request, and the policy decision
    # is then ours (check_action_permitted, below), as AWS makes it for every call.
    settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
    access_control.IAMRequestBase.check_action_permitted = check_action_permitted
    access_control.IAMRequestBase._create_aws_request = _create_aws_request
    ActionAuthenticatorMixin._authenticate_and_authorize_action = _authenticate
    _sessions_on_the_sandbox_clock()
