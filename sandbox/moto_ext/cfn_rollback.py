"""CloudFormation's create and delete semantics where moto 5.2 has none.

moto lets an exception from a resource escape CreateStack and leaves the stack half made; it deletes
a `RetainExceptOnCreate` resource with its stack. CloudFormation instead:
- fails the resource (e.g. AlreadyExists), rolls the stack back by deleting what this operation
  created, keeping a resource whose DeletionPolicy is `Retain` (or `Snapshot`), deleting one with
  `RetainExceptOnCreate`, and leaves the stack in ROLLBACK_COMPLETE, which a retry must delete
  before creating it again (the CDK CLI does);
- keeps `Retain` and `RetainExceptOnCreate` resources when the stack is deleted, and when an update
  removes them from the template ("This capability also applies to stack update operations that
  lead to resources being deleted from stacks"): moto's update deleted them.
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-deletionpolicy.html
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stack-failure-options.html

Not modelled: the rollback of a failed *update* (moto raises instead), and UpdateReplacePolicy
(moto's updates never replace our resources' physical ids).
"""

from __future__ import annotations

import logging

from moto.cloudformation.models import Stack
from moto.cloudformation.parsing import ResourceMap

log = logging.getLogger("sandbox.cfn")
logging.basicConfig()  # the emulator's stderr is .sandbox/aws.log
KEPT_ON_ROLLBACK = ("Retain", "Snapshot")
KEPT_ON_DELETE = ("Retain", "RetainExceptOnCreate", "Snapshot")
MOTO_DELETE = ResourceMap.delete
MOTO_UPDATE = ResourceMap.update


def _let_go(resource_map: ResourceMap, kept: tuple[str, ...]) -> None:
    """The stack stops managing resources whose DeletionPolicy keeps them, so moto's delete skips them."""
    for logical_id, resource_json in resource_map._resource_json_map.items():
        if resource_json.get("DeletionPolicy") in kept:
            resource_map._parsed_resources.pop(logical_id, None)


def _roll_back(stack: Stack, error: Exception) -> None:
    stack.status = "ROLLBACK_IN_PROGRESS"
    stack._add_stack_event("ROLLBACK_IN_PROGRESS", resource_status_reason=f"Resource creation failed: {error}")
    resource_map = stack.resource_map
    _let_go(resource_map, KEPT_ON_ROLLBACK)
    try:
        MOTO_DELETE(resource_map)  # moto's own: the patched one would keep RetainExceptOnCreate
    except Exception as exc:  # CloudFormation reports a failed rollback
        log.warning("stack %s: rollback failed", stack.name, exc_info=True)
        stack.status = "ROLLBACK_FAILED"
        stack._add_stack_event("ROLLBACK_FAILED", resource_status_reason=str(exc))
        return
    for logical_id in resource_map._resource_json_map:  # pseudo parameters stay
        resource_map._parsed_resources.pop(logical_id, None)
    # The rolled-back stack holds nothing and has no outputs: moto's maps would otherwise create a
    # resource again the first time a read (ListStackResources) iterates over them, or fail
    # DescribeStacks on an output naming a deleted resource.
    resource_map._resource_json_map = {}
    stack.output_map._output_json_map, stack.output_map._parsed_outputs = {}, {}
    stack.status = "ROLLBACK_COMPLETE"
    stack._add_stack_event("ROLLBACK_COMPLETE")


def patch_create_and_delete() -> None:
    create_resources = Stack.create_resources

    def create_with_rollback(self: Stack) -> None:
        try:
            create_resources(self)
        except Exception as exc:  # any resource failure rolls the stack back
            log.info("stack %s: %s; rolling back", self.name, exc)
            self._add_stack_event("CREATE_FAILED", resource_status_reason=str(exc))
            _roll_back(self, exc)

    def delete_keeping_retained(self: ResourceMap) -> None:
        _let_go(self, KEPT_ON_DELETE)
        MOTO_DELETE(self)

    def update_keeping_retained(self: ResourceMap, template: dict, parameters: dict | None = None) -> None:
        removed = set(self.build_resource_diff(template, parameters)["Remove"])
        for logical_id in removed:  # no longer the stack's: moto's update then skips it
            if self._resource_json_map[logical_id].get("DeletionPolicy") in KEPT_ON_DELETE:
                self._parsed_resources.pop(logical_id, None)
        MOTO_UPDATE(self, template, parameters)

    Stack.create_resources = create_with_rollback
    ResourceMap.delete = delete_keeping_retained
    ResourceMap.update = update_keeping_retained
