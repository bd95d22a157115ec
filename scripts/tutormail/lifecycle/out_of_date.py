"""Which stacks differ from what is deployed, and which deployed institutions have no file.

The synthesized templates (a cloud assembly, `cdk synth`) are hashed here; the hash each stack
was deployed with is a parameter of the stack (infra/template_hash.py), read back for every
stack at once from DescribeStacks pages (aws/cloudformation.py), never one call per stack.
A run cancelled half-way loses nothing: what it did not deploy still differs next time.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tutormail.aws.cloudformation import every_stack
from tutormail.catalog.problems import ConfigurationError, Problem
from tutormail.names import STACK_PREFIX
from tutormail.plan.build import PLATFORM_STACK, stack_name

HASH_PARAMETER = "TemplateHash"
NOT_RECORDED = "none"
# A stack in one of these states has no usable last deploy: deploy it again.
UNSETTLED = ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "UPDATE_ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_FAILED",
             "CREATE_FAILED", "DELETE_FAILED", "UPDATE_FAILED")


@dataclass(frozen=True)
class Deployed:
    name: str
    status: str
    template_hash: str


@dataclass
class Report:
    # stack, template_hash, reason, and the `cdk deploy --parameters` value that records the hash
    deploy: list[dict[str, str]] = field(default_factory=list)
    up_to_date: list[str] = field(default_factory=list)
    offboard: list[str] = field(default_factory=list)  # slugs with a deployed stack and no file


def template_hash(template: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(template, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _not_an_assembly(manifest_file: Path, reason: str) -> ConfigurationError:
    return ConfigurationError([Problem(str(manifest_file), 0, "--cdk-out", reason)])


def _template(directory: Path, manifest_file: Path, name: str, artifact: dict) -> dict:
    """A stack's template, read only from inside the assembly: a manifest is input, and one whose
    templateFile climbs out (`../`, an absolute path, a symlink) would have us hash any file."""
    relative = (artifact.get("properties") or {}).get("templateFile")
    if not isinstance(relative, str) or not relative:
        raise _not_an_assembly(manifest_file, f"stack {name} names no templateFile")
    root = directory.resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root):
        raise _not_an_assembly(manifest_file, f"stack {name}: templateFile {relative!r} points outside the "
                               "assembly (run cdk synth again)")
    try:
        template = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise _not_an_assembly(manifest_file, f"stack {name}: template {relative} cannot be read as JSON "
                               f"(run cdk synth again): {getattr(exc, 'strerror', None) or exc}") from None
    if not isinstance(template, dict):
        raise _not_an_assembly(manifest_file, f"stack {name}: template {relative} is not a JSON object")
    return template


def assembly_hashes(directory: Path) -> dict[str, str]:
    """sha256 of every stack's template in a cloud assembly, by stack name."""
    manifest_file = Path(directory) / "manifest.json"
    try:
        manifest = json.loads(manifest_file.read_text())
    except (OSError, ValueError) as exc:
        raise _not_an_assembly(manifest_file, f"not a cloud assembly (run cdk synth first): {exc}") from None
    artifacts = manifest.get("artifacts") if isinstance(manifest, dict) else None
    if not isinstance(artifacts, dict):
        raise _not_an_assembly(manifest_file, "not a cloud assembly (no artifacts; run cdk synth first)")
    hashes = {}
    for name, artifact in artifacts.items():
        if isinstance(artifact, dict) and artifact.get("type") == "aws:cloudformation:stack":
            template = _template(Path(directory), manifest_file, name, artifact)
            hashes[artifact.get("displayName", name)] = template_hash(template)
    return hashes


def deployed_stacks(cfn: Any) -> dict[str, Deployed]:
    """Every tutor-mail stack with the template hash it was deployed with."""
    found: dict[str, Deployed] = {}
    for stack in every_stack(cfn):
        if not stack["StackName"].startswith(STACK_PREFIX) or stack["StackStatus"] == "DELETE_COMPLETE":
            continue
        parameters = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters") or []}
        found[stack["StackName"]] = Deployed(stack["StackName"], stack["StackStatus"],
                                             parameters.get(HASH_PARAMETER, NOT_RECORDED))
    return found


def compare(slugs: list[str], wanted: dict[str, str], deployed: dict[str, Deployed]) -> Report:
    """`wanted` must come from a synthesis of every institution: a stack missing from it is an error."""
    expected = [PLATFORM_STACK, *(stack_name(s) for s in sorted(slugs))]
    missing = [name for name in expected if name not in wanted]
    if missing:
        raise ConfigurationError([Problem("--cdk-out", 0, "--cdk-out", f"the assembly lacks {', '.join(missing)}: "
                                          "synthesize every institution (cdk synth, without -c institutions)")])
    report = Report()
    for name in expected:
        stack = deployed.get(name)
        reason = ("not deployed" if stack is None else
                  f"last deploy left it {stack.status}" if stack.status in UNSETTLED else
                  "no template hash recorded" if stack.template_hash == NOT_RECORDED else
                  "template changed" if stack.template_hash != wanted[name] else None)
        if reason:
            report.deploy.append({"stack": name, "template_hash": wanted[name], "reason": reason,
                                  "parameter": f"{name}:{HASH_PARAMETER}={wanted[name]}"})
        else:
            report.up_to_date.append(name)
    known = set(expected)
    report.offboard = sorted(name[len(STACK_PREFIX):] for name in deployed
                             if name not in known and name != PLATFORM_STACK)
    return report
